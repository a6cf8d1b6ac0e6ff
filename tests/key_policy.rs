//! Key policies: the default policy, Policy on CreateKey, PutKeyPolicy,
//! GetKeyPolicy, ListKeyPolicies, the document checks and the lockout
//! safety check (the caller is the account root).
//!
//! Every scenario that involves a key runs once per origin (AWS_KMS,
//! AWS_CLOUDHSM, EXTERNAL_KEY_STORE) through the shared harness: modules
//! `aws_kms`, `cloudhsm` and `external_key_store`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod harness;

use kms_keystore::{
    CreateKeyRequest, GetKeyPolicyRequest, Kms, ListKeyPoliciesRequest, ListKeysRequest,
    OriginType, PutKeyPolicyRequest, Result, ScheduleKeyDeletionRequest, default_key_policy,
};
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const ROOT: &str = "arn:aws:iam::111122223333:root";

use harness::{Harness, MISSING_KEY, code};

fn get(kms: &Kms, key: &str) -> String {
    kms.get_key_policy(GetKeyPolicyRequest {
        key_id: key.into(),
        policy_name: Some("default".into()),
    })
    .unwrap()
    .policy
}

fn put(kms: &Kms, key: &str, policy: &str) -> Result<()> {
    kms.put_key_policy(PutKeyPolicyRequest::new(key, policy))
}

fn put_bypass(kms: &Kms, key: &str, policy: &str) -> Result<()> {
    kms.put_key_policy(PutKeyPolicyRequest {
        bypass_policy_lockout_safety_check: Some(true),
        ..PutKeyPolicyRequest::new(key, policy)
    })
}

fn create_with(h: &Harness, policy: &str, bypass: bool) -> Result<String> {
    h.create_key(CreateKeyRequest {
        policy: Some(policy.into()),
        bypass_policy_lockout_safety_check: Some(bypass),
        ..Default::default()
    })
}

fn key_count(kms: &Kms) -> usize {
    kms.list_keys(ListKeysRequest::default())
        .unwrap()
        .keys
        .len()
}

/// A statement that keeps the root able to manage the key.
fn admin() -> Value {
    json!({
        "Sid": "Admin",
        "Effect": "Allow",
        "Principal": {"AWS": ROOT},
        "Action": "kms:*",
        "Resource": "*"
    })
}

fn policy(statements: Vec<Value>) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

// ---- the default policy --------------------------------------------------------

fn a_key_without_a_policy_gets_the_default_key_policy(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let text = get(kms, &k);
    assert_eq!(text, default_key_policy(kms.account_id()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    let st = &doc["Statement"][0];
    assert_eq!(st["Effect"], "Allow");
    assert_eq!(st["Principal"]["AWS"], ROOT);
    assert_eq!(st["Action"], "kms:*");
    assert_eq!(st["Resource"], "*");
    assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
}

fn create_key_keeps_the_policy_it_is_given(h: &Harness) {
    let kms = &h.kms;
    let text = policy(vec![
        admin(),
        json!({
            "Sid": "Use",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"},
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-west-2.amazonaws.com"}}
        }),
    ]);
    let k = create_with(h, &text, false).unwrap();
    assert_eq!(get(kms, &k), text);
}

// ---- PutKeyPolicy / GetKeyPolicy / ListKeyPolicies ------------------------------------

fn put_key_policy_replaces_the_policy(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let text = policy(vec![admin()]);
    put(kms, &k, &text).unwrap();
    assert_eq!(get(kms, &k), text);
    // By key ARN, and with PolicyName omitted.
    let arn = kms.describe_key(&k).unwrap().key_metadata.arn;
    let second = policy(vec![
        admin(),
        json!({
            "Effect": "Allow", "Principal": "*", "Action": "kms:Describe*", "Resource": "*"
        }),
    ]);
    put(kms, &arn, &second).unwrap();
    let got = kms
        .get_key_policy(GetKeyPolicyRequest {
            key_id: arn,
            policy_name: None,
        })
        .unwrap();
    assert_eq!(got.policy, second);
    assert_eq!(got.policy_name, "default");
}

fn only_the_default_policy_name_exists(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let text = policy(vec![admin()]);
    for name in ["AWS_RAM", "other"] {
        assert_eq!(
            code(kms.put_key_policy(PutKeyPolicyRequest {
                policy_name: Some(name.into()),
                ..PutKeyPolicyRequest::new(&k, &text)
            })),
            "ValidationException",
            "{name}"
        );
        assert_eq!(
            code(kms.get_key_policy(GetKeyPolicyRequest {
                key_id: k.clone(),
                policy_name: Some(name.into()),
            })),
            "NotFoundException",
            "{name}"
        );
    }
    for bad in ["", "not-a-word", &"p".repeat(129)] {
        assert_eq!(
            code(kms.get_key_policy(GetKeyPolicyRequest {
                key_id: k.clone(),
                policy_name: Some(bad.to_string()),
            })),
            "ValidationException",
            "{bad}"
        );
    }
    assert_eq!(get(kms, &k), default_key_policy(kms.account_id()));
}

fn list_key_policies_names_the_default_policy(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let page = kms
        .list_key_policies(ListKeyPoliciesRequest {
            key_id: k.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.policy_names, ["default"]);
    assert!(!page.truncated);
    let json = serde_json::to_value(&page).unwrap();
    assert_eq!(json["PolicyNames"], json!(["default"]));
    assert_eq!(
        code(kms.list_key_policies(ListKeyPoliciesRequest {
            key_id: k.clone(),
            limit: Some(0),
            marker: None,
        })),
        "ValidationException"
    );
    assert_eq!(
        code(kms.list_key_policies(ListKeyPoliciesRequest {
            key_id: k.clone(),
            limit: None,
            marker: Some("abc".into()),
        })),
        "InvalidMarkerException"
    );
    assert_eq!(
        code(kms.list_key_policies(ListKeyPoliciesRequest {
            key_id: MISSING_KEY.into(),
            ..Default::default()
        })),
        "NotFoundException"
    );
}

fn policies_can_be_read_and_set_on_keys_pending_deletion(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    kms.schedule_key_deletion(ScheduleKeyDeletionRequest {
        key_id: k.clone(),
        pending_window_in_days: None,
    })
    .unwrap();
    let text = policy(vec![admin()]);
    put(kms, &k, &text).unwrap();
    assert_eq!(get(kms, &k), text);
    kms.list_key_policies(ListKeyPoliciesRequest {
        key_id: k.clone(),
        ..Default::default()
    })
    .unwrap();
}

#[test]
fn policy_operations_on_an_unknown_key_are_not_found() {
    let h = Harness::new(OriginType::AwsKms);
    let kms = &h.kms;
    let missing = MISSING_KEY;
    assert_eq!(
        code(put(kms, missing, &policy(vec![admin()]))),
        "NotFoundException"
    );
    assert_eq!(
        code(kms.get_key_policy(GetKeyPolicyRequest {
            key_id: missing.into(),
            policy_name: None,
        })),
        "NotFoundException"
    );
}

// ---- document checks -------------------------------------------------------------------

fn malformed_documents() -> Vec<(&'static str, String)> {
    let with = |extra: Value| {
        let mut st = admin();
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                st.as_object_mut().unwrap().remove(k);
            } else {
                st[k] = v.clone();
            }
        }
        policy(vec![st])
    };
    vec![
        ("not JSON", "{\"Statement\": [".to_string()),
        ("not an object", "[1, 2]".to_string()),
        ("no Statement", json!({"Version": "2012-10-17"}).to_string()),
        ("empty Statement list", policy(vec![])),
        (
            "Statement is a string",
            json!({"Statement": "x"}).to_string(),
        ),
        (
            "unknown top-level element",
            json!({"Statement": [admin()], "Extra": 1}).to_string(),
        ),
        (
            "bad Version",
            json!({"Version": "2020-01-01", "Statement": [admin()]}).to_string(),
        ),
        (
            "Id not a string",
            json!({"Id": 5, "Statement": [admin()]}).to_string(),
        ),
        ("no Effect", with(json!({"Effect": null}))),
        ("bad Effect", with(json!({"Effect": "Permit"}))),
        ("no Principal", with(json!({"Principal": null}))),
        (
            "Principal and NotPrincipal",
            with(json!({"NotPrincipal": {"AWS": ROOT}})),
        ),
        ("empty Principal object", with(json!({"Principal": {}}))),
        (
            "Principal neither * nor object",
            with(json!({"Principal": "root"})),
        ),
        (
            "unknown principal type",
            with(json!({"Principal": {"Users": ROOT}})),
        ),
        (
            "invalid AWS principal",
            with(json!({"Principal": {"AWS": "alice"}})),
        ),
        (
            "Action and NotAction",
            with(json!({"NotAction": "kms:Decrypt"})),
        ),
        (
            "Resource and NotResource",
            with(json!({"NotResource": "*"})),
        ),
        (
            "Action not service:action",
            with(json!({"Action": "Encrypt"})),
        ),
        ("Action empty list", with(json!({"Action": []}))),
        ("Action a number", with(json!({"Action": 7}))),
        ("unknown statement element", with(json!({"Foo": "bar"}))),
        ("Sid not a string", with(json!({"Sid": 1}))),
        ("Condition not an object", with(json!({"Condition": "x"}))),
        (
            "Condition block not an object",
            with(json!({"Condition": {"StringEquals": "x"}})),
        ),
        (
            "Condition value an object",
            with(json!({"Condition": {"Bool": {"aws:x": {"y": 1}}}})),
        ),
    ]
}

fn a_policy_must_be_json_with_the_policy_grammar(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let before = get(kms, &k);
    let keys = key_count(kms);
    for (why, doc) in malformed_documents() {
        assert_eq!(
            code(put_bypass(kms, &k, &doc)),
            "MalformedPolicyDocumentException",
            "PutKeyPolicy, {why}: {doc}"
        );
        assert_eq!(
            code(create_with(h, &doc, true)),
            "MalformedPolicyDocumentException",
            "CreateKey, {why}: {doc}"
        );
    }
    assert_eq!(
        get(kms, &k),
        before,
        "a failed PutKeyPolicy changes nothing"
    );
    assert_eq!(key_count(kms), keys, "a failed CreateKey makes no key");
}

fn the_policy_grammar_accepts_its_optional_forms(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    for doc in [
        // One statement object instead of a list, no Version, an Id.
        json!({"Id": "my-policy", "Statement": admin()}).to_string(),
        json!({"Version": "2008-10-17", "Statement": [admin()]}).to_string(),
        // Principal "*", lists everywhere, NotResource.
        policy(vec![json!({
            "Effect": "Allow", "Principal": "*",
            "Action": ["kms:PutKeyPolicy", "kms:GetKeyPolicy"], "Resource": ["*"]
        })]),
        // Several principal kinds, conditions with lists, numbers and booleans.
        policy(vec![
            admin(),
            json!({
                "Effect": "Deny",
                "Principal": {"Service": "logs.amazonaws.com", "AWS": ["444455556666", "arn:aws:sts::444455556666:assumed-role/R/s"]},
                "NotAction": "kms:Describe*",
                "NotResource": "arn:aws:kms:*:*:key/other",
                "Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"kms:x": [1, 2]}}
            }),
        ]),
        // A statement without Action or Resource is accepted; it has no effect.
        policy(vec![admin(), json!({"Effect": "Allow", "Principal": "*"})]),
        // Whitespace the pattern allows: tab, newline, carriage return.
        format!("{{\t\"Statement\":\r\n{}}}", admin()),
    ] {
        put(kms, &k, &doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
        assert_eq!(get(kms, &k), doc);
    }
}

/// A valid policy of exactly `bytes` bytes (padded in a Sid).
fn policy_of_size(bytes: usize) -> String {
    let base = policy(vec![admin()]);
    let with_sid = |pad: usize| {
        let mut st = admin();
        st["Sid"] = json!("S".repeat(pad));
        policy(vec![st])
    };
    let overhead = with_sid(0).len();
    assert!(bytes >= overhead && base.len() <= overhead + 5);
    let p = with_sid(bytes - overhead);
    assert_eq!(p.len(), bytes);
    p
}

fn a_policy_over_32768_bytes_is_limit_exceeded(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    put(kms, &k, &policy_of_size(32_768)).unwrap();
    create_with(h, &policy_of_size(32_768), false).unwrap();
    let before = get(kms, &k);
    let keys = key_count(kms);
    assert_eq!(
        code(put(kms, &k, &policy_of_size(32_769))),
        "LimitExceededException"
    );
    assert_eq!(
        code(create_with(h, &policy_of_size(32_769), false)),
        "LimitExceededException"
    );
    // Bytes, not characters: 16,400 two-byte characters are 32,800 bytes.
    let mut st = admin();
    st["Sid"] = json!("é".repeat(16_400));
    assert_eq!(
        code(put(kms, &k, &policy(vec![st]))),
        "LimitExceededException"
    );
    assert_eq!(get(kms, &k), before);
    assert_eq!(key_count(kms), keys);
}

fn a_policy_over_the_models_131072_characters_or_empty_is_a_validation_error(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let huge = policy_of_size(131_073);
    assert_eq!(code(put(kms, &k, &huge)), "ValidationException");
    assert_eq!(code(create_with(h, &huge, false)), "ValidationException");
    assert_eq!(code(put(kms, &k, "")), "ValidationException");
    assert_eq!(code(create_with(h, "", false)), "ValidationException");
}

fn a_policy_may_only_hold_tab_newline_return_and_u0020_to_u00ff(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    for bad in ['\u{0}', '\u{7}', '\u{0100}', '€', '😀'] {
        // The raw character in the text (serde_json would escape a control
        // character into ASCII, which is allowed).
        let mut st = admin();
        st["Sid"] = json!("x-PLACEHOLDER");
        let doc = policy(vec![st]).replace("PLACEHOLDER", &bad.to_string());
        assert!(doc.contains(bad));
        assert_eq!(code(put(kms, &k, &doc)), "ValidationException", "{bad:?}");
        assert_eq!(
            code(create_with(h, &doc, false)),
            "ValidationException",
            "{bad:?}"
        );
    }
    let mut st = admin();
    st["Sid"] = json!("Latin-1: éÿ ~");
    put(kms, &k, &policy(vec![st])).unwrap();
}

// ---- the lockout safety check ------------------------------------------------------------

/// Policies under which the account root can no longer call PutKeyPolicy.
fn lockout_policies() -> Vec<(&'static str, String)> {
    let user = "arn:aws:iam::111122223333:user/Alice";
    vec![
        (
            "only a user is allowed",
            policy(vec![json!({
                "Effect": "Allow", "Principal": {"AWS": user}, "Action": "kms:*", "Resource": "*"
            })]),
        ),
        (
            "root may only use the key",
            policy(vec![json!({
                "Effect": "Allow", "Principal": {"AWS": ROOT},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GetKeyPolicy"], "Resource": "*"
            })]),
        ),
        (
            "another account's root",
            policy(vec![json!({
                "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                "Action": "kms:*", "Resource": "*"
            })]),
        ),
        (
            "an explicit deny",
            policy(vec![
                admin(),
                json!({
                    "Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*"
                }),
            ]),
        ),
        (
            "a conditional deny whose condition the call meets",
            policy(vec![
                admin(),
                json!({
                    "Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:Put*", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalType": "Account"}}
                }),
            ]),
        ),
        (
            "allowed only under a condition",
            policy(vec![json!({
                "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}
            })]),
        ),
        (
            "NotAction excludes PutKeyPolicy",
            policy(vec![json!({
                "Effect": "Allow", "Principal": {"AWS": ROOT}, "NotAction": "kms:PutKeyPolicy", "Resource": "*"
            })]),
        ),
        (
            "NotPrincipal excludes the root",
            policy(vec![json!({
                "Effect": "Allow", "NotPrincipal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"
            })]),
        ),
        (
            "a resource that is not the key",
            policy(vec![json!({
                "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*",
                "Resource": "arn:aws:kms:us-west-2:111122223333:key/not-this-one"
            })]),
        ),
        (
            "no Action element",
            policy(vec![json!({
                "Effect": "Allow", "Principal": {"AWS": ROOT}, "Resource": "*"
            })]),
        ),
        (
            "only a service",
            policy(vec![json!({
                "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "kms:*", "Resource": "*"
            })]),
        ),
    ]
}

fn a_policy_that_locks_the_caller_out_is_refused_unless_bypassed(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    for (why, doc) in lockout_policies() {
        let err = put(kms, &k, &doc).unwrap_err();
        assert_eq!(err.code(), "MalformedPolicyDocumentException", "{why}");
        assert_eq!(
            err.message(),
            "The new key policy will not allow you to update the key policy in the future.",
            "{why}"
        );
        assert_eq!(get(kms, &k), default_key_policy(kms.account_id()), "{why}");
        let keys = key_count(kms);
        assert_eq!(
            code(create_with(h, &doc, false)),
            "MalformedPolicyDocumentException",
            "CreateKey, {why}"
        );
        assert_eq!(key_count(kms), keys, "CreateKey, {why}");
    }
    // Bypassed, each is stored and in force: the root can no longer change
    // the policy (and reads it back only where the policy lets it).
    for (why, doc) in lockout_policies() {
        let k2 = create_with(h, &doc, true).unwrap_or_else(|e| panic!("{why}: {e}"));
        let k3 = h.key();
        put_bypass(kms, &k3, &doc).unwrap_or_else(|e| panic!("{why}: {e}"));
        for key in [&k2, &k3] {
            let ask =
                kms_keystore::SimulateAuthorizationRequest::new("kms:PutKeyPolicy", Some(key));
            let decision = kms.simulate_authorization(ask).unwrap();
            assert!(!decision.is_allowed(), "{why}: {decision:?}");
            let read = kms.get_key_policy(kms_keystore::GetKeyPolicyRequest {
                key_id: key.clone(),
                ..Default::default()
            });
            match read {
                Ok(got) => assert_eq!(got.policy, doc, "{why}"),
                Err(e) => assert_eq!(e.code(), "AccessDeniedException", "{why}"),
            }
        }
    }
}

fn the_lockout_check_accepts_every_way_of_naming_the_root_and_the_action(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let arn = kms.describe_key(&k).unwrap().key_metadata.arn;
    let allow = |principal: Value, action: Value, resource: Value| {
        policy(vec![json!({
            "Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource
        })])
    };
    for doc in [
        allow(json!({"AWS": ROOT}), json!("kms:*"), json!("*")),
        allow(json!({"AWS": ACCOUNT}), json!("kms:*"), json!("*")),
        allow(json!({"AWS": "*"}), json!("kms:*"), json!("*")),
        allow(json!("*"), json!("kms:*"), json!("*")),
        allow(
            json!({"AWS": ["arn:aws:iam::111122223333:user/A", ROOT]}),
            json!("*"),
            json!("*"),
        ),
        allow(json!({"AWS": ROOT}), json!("kms:PutKeyPolicy"), json!("*")),
        allow(json!({"AWS": ROOT}), json!("KMS:putkeypolicy"), json!("*")),
        allow(
            json!({"AWS": ROOT}),
            json!(["kms:Encrypt", "kms:Put*"]),
            json!("*"),
        ),
        allow(
            json!({"AWS": ROOT}),
            json!("kms:*"),
            json!("arn:aws:kms:us-west-2:111122223333:key/*"),
        ),
        policy(vec![json!({
            "Effect": "Allow", "Principal": {"AWS": ROOT}, "NotAction": "kms:Decrypt", "Resource": "*"
        })]),
        // A deny whose condition the call does not meet (no MFA key in the
        // request: the check evaluates the call's own context).
        policy(vec![
            admin(),
            json!({
                "Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:Put*", "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}
            }),
        ]),
        // A deny that does not touch PutKeyPolicy leaves the root in control.
        policy(vec![
            admin(),
            json!({
                "Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"
            }),
        ]),
    ] {
        put(kms, &k, &doc).unwrap_or_else(|e| panic!("{e}: {doc}"));
        create_with(h, &doc, false).unwrap_or_else(|e| panic!("{e}: {doc}"));
    }
    // A statement naming this key's ARN keeps the root in control of this
    // key, and of no other.
    let doc = allow(json!({"AWS": ROOT}), json!("kms:PutKeyPolic?"), json!(arn));
    put(kms, &k, &doc).unwrap();
    assert_eq!(
        code(create_with(h, &doc, false)),
        "MalformedPolicyDocumentException"
    );
}

fn after_a_bypassed_lockout_the_policy_decides_who_uses_the_key(h: &Harness) {
    let kms = &h.kms;
    let k = h.key();
    let encrypt = |kms: &kms_keystore::Kms| {
        kms.encrypt(kms_keystore::EncryptRequest {
            key_id: k.clone(),
            plaintext: "x".into(),
            ..Default::default()
        })
    };
    // "root may only use the key": the root still encrypts, but can no
    // longer manage the key.
    let (_, doc) = lockout_policies().remove(1);
    put_bypass(kms, &k, &doc).unwrap();
    encrypt(kms).unwrap();
    assert_eq!(code(put(kms, &k, &doc).map(drop)), "AccessDeniedException");
    // "only a user is allowed": the root is locked out, Alice is in.
    let k2 = h.key();
    let (_, doc) = lockout_policies().remove(0);
    put_bypass(kms, &k2, &doc).unwrap();
    let by_id = |kms: &kms_keystore::Kms, key: &str| {
        kms.encrypt(kms_keystore::EncryptRequest {
            key_id: key.to_owned(),
            plaintext: "x".into(),
            ..Default::default()
        })
        .map(drop)
    };
    assert_eq!(code(by_id(kms, &k2)), "AccessDeniedException");
    let alice = kms.as_caller(&"arn:aws:iam::111122223333:user/Alice".parse().unwrap());
    by_id(&alice, &k2).unwrap();
}

harness::management_tests!(
    a_key_without_a_policy_gets_the_default_key_policy,
    create_key_keeps_the_policy_it_is_given,
    put_key_policy_replaces_the_policy,
    only_the_default_policy_name_exists,
    list_key_policies_names_the_default_policy,
    policies_can_be_read_and_set_on_keys_pending_deletion,
    a_policy_must_be_json_with_the_policy_grammar,
    the_policy_grammar_accepts_its_optional_forms,
    a_policy_over_32768_bytes_is_limit_exceeded,
    a_policy_over_the_models_131072_characters_or_empty_is_a_validation_error,
    a_policy_may_only_hold_tab_newline_return_and_u0020_to_u00ff,
    a_policy_that_locks_the_caller_out_is_refused_unless_bypassed,
    the_lockout_check_accepts_every_way_of_naming_the_root_and_the_action,
    after_a_bypassed_lockout_the_policy_decides_who_uses_the_key,
);
