//! The engine's table-driven tests: one case per rule of the policy spec
//! (operators, qualifiers, `IfExists`, `Null`, variables, principals,
//! actions, resources, statement order), and the malformed documents.

use serde_json::{Value, json};

use super::*;
use crate::iam::Principal;

const KEY: &str = "arn:aws:kms:us-west-2:111122223333:key/k1";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";

fn caller(p: &str) -> Caller {
    Caller::new(p.parse::<Principal>().unwrap())
}

fn context(entries: &[(&str, &[&str])]) -> ConditionContext {
    let mut cx = ConditionContext::default();
    for (k, vs) in entries {
        cx.set_values(k, vs.iter().map(|v| (*v).to_owned()).collect());
    }
    cx
}

fn doc(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn evaluate(
    kind: PolicyKind,
    policy: &str,
    who: &str,
    action: &str,
    resource: &str,
    cx: &ConditionContext,
) -> Evaluation {
    let p = Policy::parse(policy, kind).unwrap_or_else(|e| panic!("{e}: {policy}"));
    let c = caller(who);
    p.evaluate(&Request {
        caller: &c,
        action,
        resource,
        context: cx,
    })
}

use PrincipalMatch::{Account as Acct, Direct};

/// `name: Kind, policy, caller, action, resource, [context] => deny D, allow A;`
/// where D is the index of the deciding Deny and A the (index, match) of
/// the deciding Allow.
macro_rules! eval_cases {
    ($($name:ident: $kind:ident, $policy:expr, $who:expr, $action:expr, $resource:expr,
       [$(($k:expr, [$($v:expr),*])),*] => deny $deny:expr, allow $allow:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let cx = context(&[$(($k, &[$($v),*][..])),*]);
                let policy: String = $policy;
                let e = evaluate(PolicyKind::$kind, &policy, $who, $action, $resource, &cx);
                let deny: Option<usize> = $deny;
                let allow: Option<(usize, PrincipalMatch)> = $allow;
                assert_eq!(e.deny.as_ref().map(|s| s.index), deny, "deny: {policy}");
                assert_eq!(e.allow.as_ref().map(|(s, m)| (s.index, *m)), allow, "allow: {policy}");
            }
        )*
    };
}

/// A key policy allowing everyone everything under one principal element.
fn principal(p: Value) -> String {
    doc(json!([{"Effect": "Allow", "Principal": p, "Action": "*", "Resource": "*"}]))
}

fn not_principal(p: Value) -> String {
    doc(json!([{"Effect": "Allow", "NotPrincipal": p, "Action": "*", "Resource": "*"}]))
}

fn action(a: Value, not: bool) -> String {
    let k = if not { "NotAction" } else { "Action" };
    doc(json!([{"Effect": "Allow", "Principal": "*", k: a, "Resource": "*"}]))
}

fn resource(r: Value, not: bool) -> String {
    let k = if not { "NotResource" } else { "Resource" };
    doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", k: r}]))
}

fn resource_v(version: Option<&str>, r: &str) -> String {
    let mut d =
        json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": r}]});
    if let Some(v) = version {
        d["Version"] = json!(v);
    }
    d.to_string()
}

const ROLE_R: &str = "arn:aws:iam::111122223333:role/R";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/R/s1";
const ROOT: &str = "arn:aws:iam::111122223333:root";
const OTHER: &str = "arn:aws:iam::444455556666:user/eve";
const SVC: &str = "logs.amazonaws.com";

eval_cases! {
    // ---- principals ----
    star_is_direct_for_users: Key, principal(json!("*")), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    star_is_direct_for_services: Key, principal(json!("*")), SVC, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    aws_star_is_direct_for_users: Key, principal(json!({"AWS": "*"})), OTHER, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    aws_star_skips_services: Key, principal(json!({"AWS": "*"})), SVC, "kms:Encrypt", KEY, [] => deny None, allow None;
    account_id_is_direct_for_its_root: Key, principal(json!({"AWS": "111122223333"})), ROOT, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    account_id_is_account_for_its_users: Key, principal(json!({"AWS": "111122223333"})), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Acct));
    account_id_is_account_for_its_sessions: Key, principal(json!({"AWS": "111122223333"})), SESSION, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Acct));
    account_id_skips_other_accounts: Key, principal(json!({"AWS": "111122223333"})), OTHER, "kms:Encrypt", KEY, [] => deny None, allow None;
    account_id_skips_services: Key, principal(json!({"AWS": "111122223333"})), SVC, "kms:Encrypt", KEY, [] => deny None, allow None;
    account_id_matches_any_partition: Key, principal(json!({"AWS": "111122223333"})), "arn:aws-cn:iam::111122223333:root", "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    root_arn_is_direct_for_the_root: Key, principal(json!({"AWS": ROOT})), ROOT, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    root_arn_is_account_for_a_role: Key, principal(json!({"AWS": ROOT})), ROLE_R, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Acct));
    root_arn_skips_another_partition_root: Key, principal(json!({"AWS": ROOT})), "arn:aws-cn:iam::111122223333:root", "kms:Encrypt", KEY, [] => deny None, allow None;
    root_arn_skips_another_partition_user: Key, principal(json!({"AWS": ROOT})), "arn:aws-cn:iam::111122223333:user/bob", "kms:Encrypt", KEY, [] => deny None, allow None;
    root_arn_skips_another_account_root: Key, principal(json!({"AWS": "arn:aws:iam::444455556666:root"})), ROOT, "kms:Encrypt", KEY, [] => deny None, allow None;
    user_arn_is_direct_for_that_user: Key, principal(json!({"AWS": BOB})), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    user_arn_skips_other_users: Key, principal(json!({"AWS": BOB})), "arn:aws:iam::111122223333:user/alice", "kms:Encrypt", KEY, [] => deny None, allow None;
    user_arn_skips_the_root: Key, principal(json!({"AWS": BOB})), ROOT, "kms:Encrypt", KEY, [] => deny None, allow None;
    user_arn_compares_paths: Key, principal(json!({"AWS": "arn:aws:iam::111122223333:user/team/bob"})), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    user_arn_with_path_matches: Key, principal(json!({"AWS": "arn:aws:iam::111122223333:user/team/bob"})), "arn:aws:iam::111122223333:user/team/bob", "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    role_arn_matches_its_sessions: Key, principal(json!({"AWS": ROLE_R})), SESSION, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    role_arn_matches_the_role: Key, principal(json!({"AWS": ROLE_R})), ROLE_R, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    role_arn_skips_other_roles_sessions: Key, principal(json!({"AWS": ROLE_R})), "arn:aws:sts::111122223333:assumed-role/Q/s1", "kms:Encrypt", KEY, [] => deny None, allow None;
    session_arn_matches_that_session: Key, principal(json!({"AWS": SESSION})), SESSION, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    session_arn_skips_other_sessions: Key, principal(json!({"AWS": SESSION})), "arn:aws:sts::111122223333:assumed-role/R/s2", "kms:Encrypt", KEY, [] => deny None, allow None;
    service_matches_case_insensitively: Key, principal(json!({"Service": "LOGS.amazonaws.com"})), SVC, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    service_skips_other_services: Key, principal(json!({"Service": "s3.amazonaws.com"})), SVC, "kms:Encrypt", KEY, [] => deny None, allow None;
    service_skips_users: Key, principal(json!({"Service": "logs.amazonaws.com"})), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    direct_entry_beats_account_entry: Key, principal(json!({"AWS": ["111122223333", BOB]})), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    not_principal_excludes_account_matches: Key, not_principal(json!({"AWS": "111122223333"})), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    not_principal_excludes_direct_matches: Key, not_principal(json!({"AWS": BOB})), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    not_principal_applies_directly_to_others: Key, not_principal(json!({"AWS": "111122223333"})), OTHER, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    not_principal_applies_to_services: Key, not_principal(json!({"AWS": "111122223333"})), SVC, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    not_principal_star_never_applies: Key, not_principal(json!("*")), SVC, "kms:Encrypt", KEY, [] => deny None, allow None;
    identity_policies_match_directly: Identity, doc(json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));

    // ---- actions ----
    action_service_wildcard: Key, action(json!("kms:*"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    action_star: Key, action(json!("*"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    action_case_insensitive: Key, action(json!("KMS:ENCRYPT"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    action_prefix_wildcard: Key, action(json!("kms:ReEncrypt*"), false), BOB, "kms:ReEncryptFrom", KEY, [] => deny None, allow Some((0, Direct));
    action_prefix_wildcard_misses: Key, action(json!("kms:ReEncrypt*"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    action_question_is_one_char: Key, action(json!("kms:Encrypt?"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    action_list_any: Key, action(json!(["kms:Decrypt", "kms:Encrypt"]), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    action_other_service: Key, action(json!("s3:*"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    not_action_applies_to_others: Key, action(json!("kms:Decrypt"), true), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    not_action_excludes_case_insensitively: Key, action(json!("kms:de*"), true), BOB, "kms:Decrypt", KEY, [] => deny None, allow None;
    no_action_element_never_applies: Key, doc(json!({"Effect": "Allow", "Principal": "*", "Resource": "*"})), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;

    // ---- resources ----
    resource_exact: Key, resource(json!(KEY), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    resource_other_key: Key, resource(json!("arn:aws:kms:us-west-2:111122223333:key/k2"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    resource_wildcards: Key, resource(json!("arn:aws:kms:*:111122223333:key/?1"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    resource_case_sensitive: Key, resource(json!("arn:aws:kms:us-west-2:111122223333:KEY/*"), false), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    not_resource_applies_to_others: Key, resource(json!("arn:aws:kms:*:*:key/k2"), true), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((0, Direct));
    not_resource_excludes: Key, resource(json!(["x", "arn:aws:kms:*:*:key/k1"]), true), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;
    no_resource_element_never_applies: Key, doc(json!({"Effect": "Allow", "Principal": "*", "Action": "*"})), BOB, "kms:Encrypt", KEY, [] => deny None, allow None;

    // ---- variables ----
    variable_in_resource: Key, resource_v(Some("2012-10-17"), "arn:aws:kms:*:*:key/${aws:username}"), BOB, "kms:Encrypt", "arn:aws:kms:r:1:key/bob", [("aws:username", ["bob"])] => deny None, allow Some((0, Direct));
    variable_in_resource_other_value: Key, resource_v(Some("2012-10-17"), "arn:aws:kms:*:*:key/${aws:username}"), BOB, "kms:Encrypt", "arn:aws:kms:r:1:key/alice", [("aws:username", ["bob"])] => deny None, allow None;
    variable_key_case_insensitive: Key, resource_v(Some("2012-10-17"), "key/${AWS:UserName}"), BOB, "kms:Encrypt", "key/bob", [("aws:username", ["bob"])] => deny None, allow Some((0, Direct));
    variable_unresolvable_matches_nothing: Key, resource_v(Some("2012-10-17"), "key/${aws:username}"), BOB, "kms:Encrypt", "key/${aws:username}", [] => deny None, allow None;
    variable_default_when_absent: Key, resource_v(Some("2012-10-17"), "key/${aws:username, 'nobody'}"), BOB, "kms:Encrypt", "key/nobody", [] => deny None, allow Some((0, Direct));
    variable_default_unused_when_present: Key, resource_v(Some("2012-10-17"), "key/${aws:username, 'nobody'}"), BOB, "kms:Encrypt", "key/nobody", [("aws:username", ["bob"])] => deny None, allow None;
    variable_with_two_values_is_unresolvable: Key, resource_v(Some("2012-10-17"), "key/${k, 'd'}"), BOB, "kms:Encrypt", "key/d", [("k", ["a", "b"])] => deny None, allow None;
    variable_with_no_values_is_unresolvable: Key, resource_v(Some("2012-10-17"), "key/${k, 'd'}"), BOB, "kms:Encrypt", "key/d", [("k", [])] => deny None, allow None;
    variable_star_is_literal: Key, resource_v(Some("2012-10-17"), "key/${*}"), BOB, "kms:Encrypt", "key/*", [] => deny None, allow Some((0, Direct));
    variable_star_is_not_a_wildcard: Key, resource_v(Some("2012-10-17"), "key/${*}"), BOB, "kms:Encrypt", "key/abc", [] => deny None, allow None;
    variable_question_and_dollar: Key, resource_v(Some("2012-10-17"), "key/${?}${$}"), BOB, "kms:Encrypt", "key/?$", [] => deny None, allow Some((0, Direct));
    variable_value_is_literal_text: Key, resource_v(Some("2012-10-17"), "key/${aws:username}"), BOB, "kms:Encrypt", "key/abc", [("aws:username", ["*"])] => deny None, allow None;
    version_2008_keeps_variables_literal: Key, resource_v(Some("2008-10-17"), "key/${aws:username}"), BOB, "kms:Encrypt", "key/${aws:username}", [("aws:username", ["bob"])] => deny None, allow Some((0, Direct));
    version_2008_does_not_substitute: Key, resource_v(Some("2008-10-17"), "key/${aws:username}"), BOB, "kms:Encrypt", "key/bob", [("aws:username", ["bob"])] => deny None, allow None;
    no_version_does_not_substitute: Key, resource_v(None, "key/${aws:username}"), BOB, "kms:Encrypt", "key/bob", [("aws:username", ["bob"])] => deny None, allow None;
    not_resource_with_unresolvable_variable_applies: Key, doc(json!({"Effect": "Allow", "Principal": "*", "Action": "*", "NotResource": "key/${k}"})), BOB, "kms:Encrypt", "key/x", [] => deny None, allow Some((0, Direct));

    // ---- statement order ----
    deny_is_reported_with_the_allow: Key, doc(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*"}
    ])), BOB, "kms:Encrypt", KEY, [] => deny Some(1), allow Some((0, Direct));
    first_applying_deny: Key, doc(json!([
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"Bool": {"b": "true"}}},
        {"Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
    ])), BOB, "kms:Encrypt", KEY, [("b", ["false"])] => deny Some(2), allow None;
    direct_allow_beats_earlier_account_allow: Key, doc(json!([
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": BOB}, "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    ])), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((1, Direct));
    first_account_allow_without_direct: Key, doc(json!([
        {"Effect": "Allow", "Principal": {"AWS": BOB}, "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "*", "Resource": "*"}
    ])), BOB, "kms:Encrypt", KEY, [] => deny None, allow Some((1, Acct));
    a_conditional_allow_that_fails_does_not_count: Key, doc(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"Bool": {"b": "true"}}},
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    ])), BOB, "kms:Encrypt", KEY, [("b", ["false"])] => deny None, allow Some((1, Direct));
}

#[test]
fn statement_refs_carry_index_and_sid() {
    let single = json!({"Statement": {"Sid": "Only", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}}).to_string();
    let e = evaluate(
        PolicyKind::Key,
        &single,
        BOB,
        "kms:Encrypt",
        KEY,
        &ConditionContext::default(),
    );
    assert_eq!(
        e.deny,
        Some(StatementRef {
            index: 0,
            sid: Some("Only".into())
        })
    );
    let two = doc(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    ]));
    let e = evaluate(
        PolicyKind::Key,
        &two,
        BOB,
        "kms:Encrypt",
        KEY,
        &ConditionContext::default(),
    );
    assert_eq!(
        e.allow,
        Some((
            StatementRef {
                index: 1,
                sid: None
            },
            PrincipalMatch::Direct
        ))
    );
}

#[test]
fn context_free_policies_are_flagged() {
    let plain = Policy::parse(&principal(json!("*")), PolicyKind::Key).unwrap();
    assert!(plain.is_context_free());
    let cond = doc(
        json!({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {}}),
    );
    assert!(
        !Policy::parse(&cond, PolicyKind::Key)
            .unwrap()
            .is_context_free()
    );
    let var = resource_v(Some("2012-10-17"), "key/${aws:username}");
    assert!(
        !Policy::parse(&var, PolicyKind::Key)
            .unwrap()
            .is_context_free()
    );
    let literal = resource_v(Some("2008-10-17"), "key/${aws:username}");
    assert!(
        Policy::parse(&literal, PolicyKind::Key)
            .unwrap()
            .is_context_free()
    );
}

// ---- conditions ------------------------------------------------------------------------------

/// Whether a statement with `condition` applies under `entries`.
fn holds(condition: Value, entries: &[(&str, &[&str])]) -> bool {
    let policy = doc(json!([{
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": condition
    }]));
    let e = evaluate(
        PolicyKind::Key,
        &policy,
        BOB,
        "kms:Encrypt",
        KEY,
        &context(entries),
    );
    e.allow.is_some()
}

/// `name: {condition}, [context] => holds;`
macro_rules! condition_cases {
    ($($name:ident: $cond:tt, [$(($k:expr, [$($v:expr),*])),*] => $holds:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let cond = json!($cond);
                assert_eq!(holds(cond.clone(), &[$(($k, &[$($v),*][..])),*]), $holds, "{cond}");
            }
        )*
    };
}

condition_cases! {
    string_equals_matches: {"StringEquals": {"k": "v"}}, [("k", ["v"])] => true;
    string_equals_is_case_sensitive: {"StringEquals": {"k": "v"}}, [("k", ["V"])] => false;
    string_equals_absent_fails: {"StringEquals": {"k": "v"}}, [] => false;
    string_equals_present_empty_fails: {"StringEquals": {"k": "v"}}, [("k", [])] => false;
    string_equals_any_policy_value: {"StringEquals": {"k": ["a", "b"]}}, [("k", ["b"])] => true;
    string_equals_any_context_value: {"StringEquals": {"k": "v"}}, [("k", ["x", "v"])] => true;
    string_equals_no_wildcards: {"StringEquals": {"k": "v*"}}, [("k", ["vv"])] => false;
    string_equals_json_number_spelling: {"StringEquals": {"k": 42}}, [("k", ["42"])] => true;
    string_equals_json_bool_spelling: {"StringEquals": {"k": true}}, [("k", ["true"])] => true;
    condition_key_case_insensitive: {"StringEquals": {"AWS:UserName": "bob"}}, [("aws:username", ["bob"])] => true;
    string_not_equals_differs: {"StringNotEquals": {"k": "v"}}, [("k", ["x"])] => true;
    string_not_equals_equal: {"StringNotEquals": {"k": "v"}}, [("k", ["v"])] => false;
    string_not_equals_absent_holds: {"StringNotEquals": {"k": "v"}}, [] => true;
    string_not_equals_present_empty_holds: {"StringNotEquals": {"k": "v"}}, [("k", [])] => true;
    string_not_equals_any_context_value_equal_fails: {"StringNotEquals": {"k": "a"}}, [("k", ["a", "x"])] => false;
    string_equals_ignore_case_matches: {"StringEqualsIgnoreCase": {"k": "VaLuE"}}, [("k", ["value"])] => true;
    string_equals_ignore_case_unicode: {"StringEqualsIgnoreCase": {"k": "ÄB"}}, [("k", ["äb"])] => true;
    string_equals_ignore_case_differs: {"StringEqualsIgnoreCase": {"k": "value"}}, [("k", ["values"])] => false;
    string_not_equals_ignore_case_equal: {"StringNotEqualsIgnoreCase": {"k": "V"}}, [("k", ["v"])] => false;
    string_not_equals_ignore_case_differs: {"StringNotEqualsIgnoreCase": {"k": "v"}}, [("k", ["w"])] => true;
    string_like_star: {"StringLike": {"k": "a*c"}}, [("k", ["abbc"])] => true;
    string_like_question: {"StringLike": {"k": "a?c"}}, [("k", ["abbc"])] => false;
    string_like_case_sensitive: {"StringLike": {"k": "A*"}}, [("k", ["abc"])] => false;
    string_not_like_matching: {"StringNotLike": {"k": "a*"}}, [("k", ["abc"])] => false;
    string_not_like_other: {"StringNotLike": {"k": "a*"}}, [("k", ["xbc"])] => true;
    numeric_equals_as_numbers: {"NumericEquals": {"k": 42}}, [("k", ["42.0"])] => true;
    numeric_equals_differs: {"NumericEquals": {"k": "42"}}, [("k", ["41"])] => false;
    numeric_equals_unparsable_context: {"NumericEquals": {"k": "42"}}, [("k", ["abc"])] => false;
    numeric_not_equals_differs: {"NumericNotEquals": {"k": "42"}}, [("k", ["41"])] => true;
    numeric_not_equals_equal: {"NumericNotEquals": {"k": "42"}}, [("k", ["42"])] => false;
    numeric_not_equals_unparsable_context_holds: {"NumericNotEquals": {"k": "42"}}, [("k", ["abc"])] => true;
    numeric_less_than_less: {"NumericLessThan": {"k": 10}}, [("k", ["9.5"])] => true;
    numeric_less_than_equal: {"NumericLessThan": {"k": 10}}, [("k", ["10"])] => false;
    numeric_less_than_equals_equal: {"NumericLessThanEquals": {"k": 10}}, [("k", ["10"])] => true;
    numeric_less_than_equals_greater: {"NumericLessThanEquals": {"k": 10}}, [("k", ["10.5"])] => false;
    numeric_greater_than_equal: {"NumericGreaterThan": {"k": 10}}, [("k", ["10"])] => false;
    numeric_greater_than_greater: {"NumericGreaterThan": {"k": 10}}, [("k", ["11"])] => true;
    numeric_greater_than_equals_equal: {"NumericGreaterThanEquals": {"k": 1.5}}, [("k", ["1.5"])] => true;
    numeric_greater_than_equals_less: {"NumericGreaterThanEquals": {"k": 10}}, [("k", ["9"])] => false;
    date_equals_epoch_seconds: {"DateEquals": {"k": "2020-01-01T00:00:00Z"}}, [("k", ["1577836800"])] => true;
    date_equals_offset: {"DateEquals": {"k": "2020-01-01"}}, [("k", ["2020-01-01T01:00:00+01:00"])] => true;
    date_equals_other_day: {"DateEquals": {"k": "2020-01-01"}}, [("k", ["2020-01-02"])] => false;
    date_equals_unparsable_context: {"DateEquals": {"k": "2020-01-01"}}, [("k", ["soon"])] => false;
    date_not_equals_other: {"DateNotEquals": {"k": "2020-01-01"}}, [("k", ["2020-01-02"])] => true;
    date_not_equals_same: {"DateNotEquals": {"k": "2020-01-01"}}, [("k", ["2020-01-01T00:00:00.000Z"])] => false;
    date_less_than_before: {"DateLessThan": {"k": "2020-01-01T00:00:00Z"}}, [("k", ["2019-12-31T23:59:59.999Z"])] => true;
    date_less_than_same: {"DateLessThan": {"k": "2020-01-01T00:00:00Z"}}, [("k", ["2020-01-01"])] => false;
    date_less_than_equals_same: {"DateLessThanEquals": {"k": "2020-01-01T00:00:00Z"}}, [("k", ["2020-01-01"])] => true;
    date_less_than_equals_after: {"DateLessThanEquals": {"k": "2020-01-01T00:00:00Z"}}, [("k", ["2020-01-01T00:00:00.001Z"])] => false;
    date_greater_than_after: {"DateGreaterThan": {"k": "2020-01-01"}}, [("k", ["2020-01-01T00:00:01Z"])] => true;
    date_greater_than_same: {"DateGreaterThan": {"k": "2020-01-01"}}, [("k", ["1577836800"])] => false;
    date_greater_than_equals_same: {"DateGreaterThanEquals": {"k": "2020-01-01"}}, [("k", ["1577836800"])] => true;
    date_greater_than_equals_before: {"DateGreaterThanEquals": {"k": "2020-01-01"}}, [("k", ["2019-12-31"])] => false;
    bool_any_case: {"Bool": {"k": true}}, [("k", ["TRUE"])] => true;
    bool_other_value: {"Bool": {"k": "true"}}, [("k", ["false"])] => false;
    bool_policy_any_case: {"Bool": {"k": "False"}}, [("k", ["false"])] => true;
    binary_equals_exact: {"BinaryEquals": {"k": "QUJD"}}, [("k", ["QUJD"])] => true;
    binary_equals_case_sensitive: {"BinaryEquals": {"k": "QUJD"}}, [("k", ["qujd"])] => false;
    ip_address_inside: {"IpAddress": {"k": "10.0.0.0/8"}}, [("k", ["10.1.2.3"])] => true;
    ip_address_outside: {"IpAddress": {"k": "10.0.0.0/8"}}, [("k", ["11.0.0.1"])] => false;
    ip_address_unparsable: {"IpAddress": {"k": "10.0.0.0/8"}}, [("k", ["ten"])] => false;
    ip_address_v6: {"IpAddress": {"k": "2001:db8::/32"}}, [("k", ["2001:db8::1"])] => true;
    ip_address_v4_not_in_v6: {"IpAddress": {"k": "::/0"}}, [("k", ["10.0.0.1"])] => false;
    ip_address_bare_host: {"IpAddress": {"k": "192.0.2.7"}}, [("k", ["192.0.2.8"])] => false;
    not_ip_address_outside: {"NotIpAddress": {"k": "10.0.0.0/8"}}, [("k", ["11.0.0.1"])] => true;
    not_ip_address_inside: {"NotIpAddress": {"k": "10.0.0.0/8"}}, [("k", ["10.0.0.1"])] => false;
    arn_like_parts: {"ArnLike": {"k": "arn:aws:iam::*:role/R*"}}, [("k", ["arn:aws:iam::111122223333:role/Reader"])] => true;
    arn_like_other_resource: {"ArnLike": {"k": "arn:aws:iam::*:role/R*"}}, [("k", ["arn:aws:iam::111122223333:user/R"])] => false;
    arn_like_star_pattern_is_not_an_arn: {"ArnLike": {"k": "*"}}, [("k", ["arn:aws:iam::111122223333:user/R"])] => false;
    arn_like_star_does_not_cross_parts: {"ArnLike": {"k": "arn:aws:*:role/x"}}, [("k", ["arn:aws:iam::1:role/x"])] => false;
    arn_like_last_part_keeps_colons: {"ArnLike": {"k": "arn:aws:kms:*:*:key/*"}}, [("k", ["arn:aws:kms:r:1:key/a:b"])] => true;
    arn_equals_is_arn_like: {"ArnEquals": {"k": "arn:aws:iam::*:role/R?"}}, [("k", ["arn:aws:iam::1:role/R1"])] => true;
    arn_equals_case_sensitive: {"ArnEquals": {"k": "arn:aws:iam::1:role/r"}}, [("k", ["arn:aws:iam::1:role/R"])] => false;
    arn_not_like_matching: {"ArnNotLike": {"k": "arn:aws:iam::*:role/*"}}, [("k", ["arn:aws:iam::1:role/R"])] => false;
    arn_not_like_other: {"ArnNotLike": {"k": "arn:aws:iam::*:role/*"}}, [("k", ["arn:aws:iam::1:user/R"])] => true;
    arn_not_equals_other: {"ArnNotEquals": {"k": "arn:aws:iam::1:role/R"}}, [("k", ["arn:aws:iam::2:role/R"])] => true;
    arn_not_equals_same: {"ArnNotEquals": {"k": "arn:aws:iam::1:role/R"}}, [("k", ["arn:aws:iam::1:role/R"])] => false;
    null_true_absent: {"Null": {"k": "true"}}, [] => true;
    null_true_present: {"Null": {"k": "true"}}, [("k", ["v"])] => false;
    null_true_present_empty: {"Null": {"k": "TRUE"}}, [("k", [])] => true;
    null_false_present: {"Null": {"k": false}}, [("k", ["v"])] => true;
    null_false_absent: {"Null": {"k": "false"}}, [] => false;

    // ---- IfExists ----
    if_exists_absent_holds: {"StringEqualsIfExists": {"k": "v"}}, [] => true;
    if_exists_present_mismatch: {"StringEqualsIfExists": {"k": "v"}}, [("k", ["x"])] => false;
    if_exists_present_match: {"StringEqualsIfExists": {"k": "v"}}, [("k", ["v"])] => true;
    if_exists_present_empty: {"StringEqualsIfExists": {"k": "v"}}, [("k", [])] => false;
    if_exists_numeric_absent: {"NumericLessThanIfExists": {"k": 1}}, [] => true;
    if_exists_negated_present_equal: {"StringNotEqualsIfExists": {"k": "v"}}, [("k", ["v"])] => false;

    // ---- set qualifiers ----
    for_any_value_one_matches: {"ForAnyValue:StringEquals": {"k": ["a", "b"]}}, [("k", ["x", "b"])] => true;
    for_any_value_none_matches: {"ForAnyValue:StringEquals": {"k": ["a", "b"]}}, [("k", ["x", "y"])] => false;
    for_any_value_absent: {"ForAnyValue:StringEquals": {"k": "a"}}, [] => false;
    for_any_value_empty: {"ForAnyValue:StringEquals": {"k": "a"}}, [("k", [])] => false;
    for_any_value_if_exists_absent: {"ForAnyValue:StringEqualsIfExists": {"k": "a"}}, [] => true;
    for_any_value_if_exists_empty: {"ForAnyValue:StringEqualsIfExists": {"k": "a"}}, [("k", [])] => false;
    for_any_value_negated_some_value_differs: {"ForAnyValue:StringNotEquals": {"k": "a"}}, [("k", ["a", "x"])] => true;
    for_any_value_negated_all_equal: {"ForAnyValue:StringNotEquals": {"k": "a"}}, [("k", ["a"])] => false;
    for_any_value_negated_absent: {"ForAnyValue:StringNotEquals": {"k": "a"}}, [] => false;
    for_all_values_all_match: {"ForAllValues:StringEquals": {"k": ["a", "b"]}}, [("k", ["a", "b"])] => true;
    for_all_values_one_misses: {"ForAllValues:StringEquals": {"k": ["a", "b"]}}, [("k", ["a", "x"])] => false;
    for_all_values_absent: {"ForAllValues:StringEquals": {"k": "a"}}, [] => true;
    for_all_values_empty: {"ForAllValues:StringEquals": {"k": "a"}}, [("k", [])] => true;
    for_all_values_if_exists_absent: {"ForAllValues:StringLikeIfExists": {"k": "a*"}}, [] => true;
    for_all_values_numeric: {"ForAllValues:NumericLessThan": {"k": 10}}, [("k", ["1", "20"])] => false;
    for_all_values_negated_none_equal: {"ForAllValues:StringNotEquals": {"k": "a"}}, [("k", ["x", "y"])] => true;
    for_all_values_negated_one_equal: {"ForAllValues:StringNotEquals": {"k": "a"}}, [("k", ["x", "a"])] => false;
    for_all_values_negated_absent: {"ForAllValues:StringNotEquals": {"k": "a"}}, [] => true;

    // ---- several entries, empty blocks ----
    every_entry_must_hold: {"StringEquals": {"a": "1", "b": "2"}, "Bool": {"c": "true"}}, [("a", ["1"]), ("b", ["2"]), ("c", ["false"])] => false;
    every_entry_holds: {"StringEquals": {"a": "1", "b": "2"}, "Bool": {"c": "true"}}, [("a", ["1"]), ("b", ["2"]), ("c", ["true"])] => true;
    empty_condition_holds: {}, [] => true;
    empty_operator_block_holds: {"StringEquals": {}}, [] => true;

    // ---- variables in condition values ----
    variable_in_string_equals: {"StringEquals": {"k": "${aws:username}"}}, [("k", ["bob"]), ("aws:username", ["bob"])] => true;
    variable_in_string_equals_other: {"StringEquals": {"k": "${aws:username}"}}, [("k", ["alice"]), ("aws:username", ["bob"])] => false;
    variable_in_string_like_keeps_wildcards: {"StringLike": {"k": "${aws:username}-*"}}, [("k", ["bob-1"]), ("aws:username", ["bob"])] => true;
    variable_in_ignore_case: {"StringEqualsIgnoreCase": {"k": "${u}"}}, [("k", ["bob"]), ("u", ["BOB"])] => true;
    variable_in_arn_like: {"ArnLike": {"k": "arn:aws:iam::${acct}:role/*"}}, [("k", ["arn:aws:iam::1:role/R"]), ("acct", ["1"])] => true;
    variable_unresolvable_in_condition: {"StringEquals": {"k": "${nope}"}}, [("k", ["${nope}"])] => false;
    variable_unresolvable_negated_holds: {"StringNotEquals": {"k": "${nope}"}}, [("k", ["x"])] => true;
    variable_not_in_binary: {"BinaryEquals": {"k": "${u}"}}, [("k", ["${u}"]), ("u", ["x"])] => true;
}

#[test]
fn variables_are_literal_in_2008_conditions() {
    let policy = json!({"Version": "2008-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"k": "${u}"}}
    }]})
    .to_string();
    let lit = context(&[("k", &["${u}"][..]), ("u", &["x"][..])]);
    assert!(
        evaluate(PolicyKind::Key, &policy, BOB, "a:b", KEY, &lit)
            .allow
            .is_some()
    );
    let sub = context(&[("k", &["x"][..]), ("u", &["x"][..])]);
    assert!(
        evaluate(PolicyKind::Key, &policy, BOB, "a:b", KEY, &sub)
            .allow
            .is_none()
    );
}

// ---- malformed documents --------------------------------------------------------------------

/// A key policy with one statement with `condition`.
fn with_condition(condition: Value) -> String {
    doc(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*", "Condition": condition}]),
    )
}

fn with_principal(p: Value) -> String {
    principal(p)
}

#[test]
fn malformed_documents_name_the_problem() {
    let key = PolicyKind::Key;
    let identity = PolicyKind::Identity;
    let cases: Vec<(PolicyKind, String, &str)> = vec![
        (key, "{".into(), "not valid JSON"),
        (key, "[]".into(), "must be a JSON object"),
        (key, json!({"Statement": []}).to_string(), "non-empty list"),
        (
            key,
            json!({"Version": "2012-10-17"}).to_string(),
            "Statement element is missing",
        ),
        (
            key,
            json!({"Statement": [1]}).to_string(),
            "Statement 0 must be an object",
        ),
        (
            key,
            json!({"Statement": {"Effect": "Allow", "Principal": "*"}, "Extra": 1}).to_string(),
            "unknown top-level element 'Extra'",
        ),
        (
            key,
            json!({"Version": "2020-01-01", "Statement": {"Effect": "Allow", "Principal": "*"}})
                .to_string(),
            "Version must be",
        ),
        (
            key,
            json!({"Id": 1, "Statement": {"Effect": "Allow", "Principal": "*"}}).to_string(),
            "Id must be a string",
        ),
        (
            key,
            doc(json!({"Effect": "allow", "Principal": "*"})),
            "Effect of \"Allow\" or \"Deny\"",
        ),
        (
            key,
            doc(json!({"Effect": "Allow", "Principal": "*", "Sid": 3})),
            "Sid of statement 0",
        ),
        (
            key,
            doc(json!({"Effect": "Allow", "Principal": "*", "Foo": 3})),
            "unknown element 'Foo'",
        ),
        (
            key,
            doc(json!([{"Effect": "Allow", "Principal": "*"}, {"Effect": "Allow", "Action": "*"}])),
            "statement 1 names no principal",
        ),
        (
            key,
            doc(json!({"Effect": "Allow", "Principal": "*", "NotPrincipal": "*"})),
            "both Principal and NotPrincipal",
        ),
        (
            key,
            doc(json!({"Effect": "Allow", "Principal": "*", "Action": "*", "NotAction": "*"})),
            "both Action and NotAction",
        ),
        (
            key,
            doc(json!({"Effect": "Allow", "Principal": "*", "Resource": "*", "NotResource": "*"})),
            "both Resource and NotResource",
        ),
        (
            key,
            doc(json!({"Effect": "Allow", "Principal": "*", "Action": []})),
            "Action of statement 0 must be a non-empty string",
        ),
        (
            key,
            doc(json!({"Effect": "Allow", "Principal": "*", "Resource": ""})),
            "Resource of statement 0 must be a non-empty string",
        ),
        (
            key,
            doc(json!({"Effect": "Allow", "Principal": "*", "Action": "Encrypt"})),
            "action 'Encrypt' is not of the form",
        ),
        (
            identity,
            doc(json!({"Effect": "Allow", "Principal": "*", "Action": "*"})),
            "must not have Principal",
        ),
        (
            identity,
            doc(json!({"Effect": "Allow", "NotPrincipal": "*", "Action": "*"})),
            "must not have Principal",
        ),
        (key, with_principal(json!({})), "must be \"*\" or an object"),
        (
            key,
            with_principal(json!("root")),
            "must be \"*\" or an object",
        ),
        (
            key,
            with_principal(json!({"Federated": "cognito-identity.amazonaws.com"})),
            "unknown principal type 'Federated'",
        ),
        (
            key,
            with_principal(json!({"AWS": []})),
            "Principal AWS of statement 0",
        ),
        (
            key,
            with_principal(json!({"Service": ""})),
            "Principal Service of statement 0",
        ),
        (
            key,
            with_principal(json!({"AWS": "alice"})),
            "invalid AWS principal 'alice'",
        ),
        (
            key,
            with_principal(json!({"AWS": "1234"})),
            "invalid AWS principal '1234'",
        ),
        (
            key,
            with_principal(json!({"AWS": "arn:aws:iam::111122223333:group/g"})),
            "invalid AWS principal",
        ),
        (
            key,
            with_principal(json!({"AWS": "arn:aws:iam::111122223333:user/"})),
            "invalid AWS principal",
        ),
        (
            key,
            with_principal(json!({"AWS": "arn:aws-xx:iam::111122223333:root"})),
            "invalid AWS principal",
        ),
        (
            key,
            with_principal(json!({"AWS": "arn:aws:iam:us-west-2:111122223333:root"})),
            "invalid AWS principal",
        ),
        (
            key,
            with_principal(json!({"AWS": "arn:aws:sts::111122223333:assumed-role/R"})),
            "invalid AWS principal",
        ),
        (
            key,
            with_principal(json!({"AWS": "arn:aws:sts::111122223333:assumed-role/R/s/x"})),
            "invalid AWS principal",
        ),
        (
            key,
            with_principal(json!({"AWS": "arn:aws:iam::11112222333:root"})),
            "invalid AWS principal",
        ),
        (key, with_condition(json!("x")), "must map operators"),
        (
            key,
            with_condition(json!({"StringEquals": "x"})),
            "must map operators",
        ),
        (
            key,
            with_condition(json!({"StringEquals": {"k": null}})),
            "must map operators",
        ),
        (
            key,
            with_condition(json!({"StringEquals": {"k": {"a": 1}}})),
            "must map operators",
        ),
        (
            key,
            with_condition(json!({"StringEquals": {"k": ["a", ["b"]]}})),
            "must map operators",
        ),
        (
            key,
            with_condition(json!({"StringEquals": {"k": []}})),
            "empty list of values",
        ),
        (
            key,
            with_condition(json!({"StringEqualz": {"k": "v"}})),
            "unknown condition operator 'StringEqualz'",
        ),
        (
            key,
            with_condition(json!({"stringequals": {"k": "v"}})),
            "unknown condition operator 'stringequals'",
        ),
        (
            key,
            with_condition(json!({"IfExists": {"k": "v"}})),
            "unknown condition operator 'IfExists'",
        ),
        (
            key,
            with_condition(json!({"StringEqualsIfExistsIfExists": {"k": "v"}})),
            "unknown condition operator",
        ),
        (
            key,
            with_condition(json!({"ForAnyValues:StringEquals": {"k": "v"}})),
            "unknown condition operator",
        ),
        (
            key,
            with_condition(json!({"ForAllValues:ForAnyValue:StringEquals": {"k": "v"}})),
            "unknown condition operator",
        ),
        (
            key,
            with_condition(json!({"StringEqualsIfExists:ForAnyValue": {"k": "v"}})),
            "unknown condition operator",
        ),
        (
            key,
            with_condition(json!({"NullIfExists": {"k": "true"}})),
            "Null takes neither",
        ),
        (
            key,
            with_condition(json!({"ForAnyValue:Null": {"k": "true"}})),
            "Null takes neither",
        ),
        (
            key,
            with_condition(json!({"ForAllValues:NullIfExists": {"k": "true"}})),
            "Null takes neither",
        ),
        (
            key,
            with_condition(json!({"Null": {"k": "yes"}})),
            "not true or false",
        ),
        (
            key,
            with_condition(json!({"Bool": {"k": "yes"}})),
            "the Bool value 'yes' of condition key 'k' is not true or false",
        ),
        (
            key,
            with_condition(json!({"Bool": {"k": 1}})),
            "not true or false",
        ),
        (
            key,
            with_condition(json!({"NumericEquals": {"k": "ten"}})),
            "is not a number",
        ),
        (
            key,
            with_condition(json!({"ForAnyValue:NumericLessThanIfExists": {"k": ["1", "x"]}})),
            "is not a number",
        ),
        (
            key,
            with_condition(json!({"NumericEquals": {"k": "${v}"}})),
            "is not a number",
        ),
        (
            key,
            with_condition(json!({"DateLessThan": {"k": "2020-13-01"}})),
            "is not a date",
        ),
        (
            key,
            with_condition(json!({"DateEquals": {"k": "2020-01-01T00:00:00"}})),
            "is not a date",
        ),
        (
            key,
            with_condition(json!({"IpAddress": {"k": "10.0.0.0/33"}})),
            "is not an IP address or CIDR block",
        ),
        (
            key,
            with_condition(json!({"NotIpAddress": {"k": "intranet"}})),
            "is not an IP address or CIDR block",
        ),
    ];
    for (kind, text, fragment) in cases {
        let err = Policy::parse(&text, kind).expect_err(&text);
        assert_eq!(err.code(), "MalformedPolicyDocumentException", "{text}");
        assert!(
            err.message().contains(fragment),
            "{text}: wanted {fragment:?} in {:?}",
            err.message()
        );
    }
}

#[test]
fn well_formed_documents_parse() {
    for (kind, text) in [
        (
            PolicyKind::Key,
            json!({"Statement": {"Effect": "Deny", "Principal": "*"}}).to_string(),
        ),
        (
            PolicyKind::Identity,
            doc(json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})),
        ),
        (
            PolicyKind::Key,
            with_principal(
                json!({"AWS": ["*", "111122223333", ROOT, BOB, ROLE_R, SESSION, "arn:aws-us-gov:iam::111122223333:role/a/b/R"], "Service": ["logs.amazonaws.com"]}),
            ),
        ),
        (
            PolicyKind::Key,
            with_condition(json!({
                "ForAllValues:StringLikeIfExists": {"k": ["a*", 1, true]},
                "ForAnyValue:DateGreaterThan": {"d": ["2020-01-01", 1577836800, "2020-01-01T00:00:00.123456789-05:30"]},
                "NumericNotEqualsIfExists": {"n": [1.5, "-2", "1e3"]},
                "IpAddress": {"ip": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]},
                "ArnNotLike": {"a": "*"},
                "Null": {"x": [true, "FALSE"]},
                "BinaryEquals": {"b": "QUJD"},
                "StringEquals": {"u": "${aws:username, 'x'}"}
            })),
        ),
    ] {
        Policy::parse(&text, kind).unwrap_or_else(|e| panic!("{e}: {text}"));
    }
}
