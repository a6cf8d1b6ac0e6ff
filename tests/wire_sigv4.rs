//! The server's request identity, without the network: SigV4 verification
//! in `Dispatcher::handle` (known answers, every refusal), strict and
//! permissive modes, accounts and Regions, fixture principals, and a
//! durable server's restart. Feature `server`.
#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use kms_keystore::server::{
    AuthMode, Dispatcher, Fixture, ServerOptions, WireRequest, WireResponse,
};
use kms_keystore::{ManualClock, Timestamp};
use serde_json::{Value, json};

/// 2026-11-30T03:50:36Z, the date of the botocore vector below.
const VECTOR_SECS: u64 = 1_796_010_636;

/// One request signed by botocore 1.43.11 (`SigV4Auth(Credentials(
/// 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
/// 'kms', 'us-east-1').add_auth(req)` on an `AWSRequest` POST to
/// `https://kms.us-east-1.amazonaws.com/` with the body and headers below),
/// pasted here: an answer computed outside this crate and outside
/// aws-sigv4.
const VECTOR_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261130/us-east-1/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=4a12ac958125d9f87a64f5be9e2a9ec1fcd8df45cc37b75500f73ff6504f9c14";
const VECTOR_BODY: &[u8] = br#"{"KeyId":"alias/example"}"#;
const VECTOR_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const VECTOR_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn vector_headers(authorization: &str) -> Vec<(String, String)> {
    [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "TrentService.DescribeKey"),
        ("x-amz-date", "20261130T035036Z"),
        ("authorization", authorization),
        ("host", "kms.us-east-1.amazonaws.com"),
        ("user-agent", "Boto3/1.40 md/Botocore#1.43.11"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect()
}

fn clock_at(secs: u64) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(Timestamp::from_millis(secs * 1000)))
}

/// A server for `fixture`, on `clock`, in `auth` (or the fixture's mode).
fn server(fixture: &str, clock: &Arc<ManualClock>, auth: Option<AuthMode>) -> Dispatcher {
    let mut options = ServerOptions::default();
    options.clock = Some(clock.clone());
    options.auth = auth;
    Fixture::from_json(fixture)
        .unwrap()
        .build_server(&options)
        .unwrap()
        .0
}

fn handle(d: &Dispatcher, headers: &[(String, String)], body: &[u8]) -> WireResponse {
    d.handle(&WireRequest {
        method: "POST",
        path: "/",
        headers,
        body,
        peer: Some("203.0.113.7".parse().unwrap()),
        secure: false,
    })
}

/// Headers for `target` with `body`, signed as an SDK signs them (the
/// aws-sigv4 signer) with `key`/`secret` for `service` in `region` at
/// `secs`.
fn signed(
    target: &str,
    body: &[u8],
    key: &str,
    secret: &str,
    service: &str,
    region: &str,
    secs: u64,
) -> Vec<(String, String)> {
    signed_with_token(target, body, (key, secret, None), service, region, secs)
}

/// As [`signed`], with temporary credentials' session token when given
/// (the signer adds and signs `X-Amz-Security-Token`).
fn signed_with_token(
    target: &str,
    body: &[u8],
    (key, secret, token): (&str, &str, Option<&str>),
    service: &str,
    region: &str,
    secs: u64,
) -> Vec<(String, String)> {
    let host = format!("{service}.{region}.amazonaws.com");
    let base = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target),
        ("host", host.as_str()),
    ];
    let identity =
        aws_credential_types::Credentials::new(key, secret, token.map(str::to_owned), None, "test")
            .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(UNIX_EPOCH + Duration::from_secs(secs))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new(
        "POST",
        format!("https://{host}/"),
        base.iter().copied(),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(request, &params).unwrap().into_parts();
    let mut headers: Vec<(String, String)> = base
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    for (n, v) in instructions.headers() {
        headers.push((n.to_ascii_lowercase(), v.to_owned()));
    }
    headers
}

fn error(resp: &WireResponse) -> (u16, String, String) {
    let v = resp.json().unwrap();
    (
        resp.status,
        v["__type"].as_str().unwrap_or_default().to_owned(),
        v["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A fixture whose only principal is the root of 111122223333 with the
/// vector's key.
const VECTOR_FIXTURE: &str = r#"{
  "principals": [{"arn": "arn:aws:iam::111122223333:root",
                  "access_key_id": "AKIAIOSFODNN7EXAMPLE",
                  "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}]
}"#;

#[test]
fn botocore_vector_verifies_and_runs_in_the_scope_region() {
    let clock = clock_at(VECTOR_SECS + 60);
    let d = server(VECTOR_FIXTURE, &clock, None);
    assert_eq!(d.auth(), AuthMode::Strict);
    // Verified, the operation runs; in us-east-1, which has no such alias
    // until the library gives it one.
    let resp = handle(&d, &vector_headers(VECTOR_AUTHORIZATION), VECTOR_BODY);
    let (status, kind, message) = error(&resp);
    assert_eq!(
        (status, kind.as_str()),
        (400, "NotFoundException"),
        "{message}"
    );
    let east = d.kms_in("111122223333", "us-east-1").unwrap();
    let key = east.create_key(Default::default()).unwrap().key_metadata;
    east.create_alias(kms_keystore::CreateAliasRequest {
        alias_name: "alias/example".into(),
        target_key_id: key.key_id.to_string(),
    })
    .unwrap();
    let resp = handle(&d, &vector_headers(VECTOR_AUTHORIZATION), VECTOR_BODY);
    assert_eq!(resp.status, 200, "{resp:?}");
    assert_eq!(resp.json().unwrap()["KeyMetadata"]["Arn"], key.arn.as_str());
}

#[test]
fn botocore_vector_with_one_bit_changed_is_refused() {
    let clock = clock_at(VECTOR_SECS);
    let d = server(VECTOR_FIXTURE, &clock, None);
    // Another body than the one signed.
    let resp = handle(
        &d,
        &vector_headers(VECTOR_AUTHORIZATION),
        br#"{"KeyId":"alias/exampla"}"#,
    );
    let (status, kind, message) = error(&resp);
    assert_eq!((status, kind.as_str()), (400, "InvalidSignatureException"));
    assert_eq!(
        message,
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
    // Another signature.
    let forged = VECTOR_AUTHORIZATION.replace("4a12ac95", "4a12ac96");
    let (_, kind, _) = error(&handle(&d, &vector_headers(&forged), VECTOR_BODY));
    assert_eq!(kind, "InvalidSignatureException");
    // A signed header changed after signing.
    let mut headers = vector_headers(VECTOR_AUTHORIZATION);
    headers[1].1 = "TrentService.ListKeys".to_owned();
    let (_, kind, _) = error(&handle(&d, &headers, VECTOR_BODY));
    assert_eq!(kind, "InvalidSignatureException");
}

#[test]
fn the_aws_sigv4_signer_and_the_verifier_agree() {
    let clock = clock_at(VECTOR_SECS);
    let d = server(VECTOR_FIXTURE, &clock, None);
    for region in ["us-west-2", "eu-central-1"] {
        let headers = signed(
            "TrentService.CreateKey",
            b"{}",
            VECTOR_KEY,
            VECTOR_SECRET,
            "kms",
            region,
            VECTOR_SECS,
        );
        let resp = handle(&d, &headers, b"{}");
        assert_eq!(resp.status, 200, "{resp:?}");
        let arn = resp.json().unwrap()["KeyMetadata"]["Arn"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            arn.starts_with(&format!("arn:aws:kms:{region}:111122223333:key/")),
            "{arn}"
        );
    }
}

#[test]
fn every_refusal_has_aws_type_status_and_message() {
    let clock = clock_at(VECTOR_SECS);
    let d = server(VECTOR_FIXTURE, &clock, None);
    let body = b"{}";
    let target = "TrentService.ListKeys";

    // No Authorization header.
    let headers = vec![("x-amz-target".to_owned(), target.to_owned())];
    assert_eq!(
        error(&handle(&d, &headers, body)),
        (
            400,
            "MissingAuthenticationTokenException".into(),
            "Request is missing Authentication Token".into()
        )
    );

    // Unknown access key id.
    let headers = signed(
        target,
        body,
        "AKIAUNKNOWNUNKNOWN00",
        VECTOR_SECRET,
        "kms",
        "us-west-2",
        VECTOR_SECS,
    );
    assert_eq!(
        error(&handle(&d, &headers, body)),
        (
            400,
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into()
        )
    );

    // Wrong secret.
    let headers = signed(
        target,
        body,
        VECTOR_KEY,
        "not-the-secret-at-all-0000000000000000000",
        "kms",
        "us-west-2",
        VECTOR_SECS,
    );
    let (status, kind, message) = error(&handle(&d, &headers, body));
    assert_eq!((status, kind.as_str()), (400, "InvalidSignatureException"));
    assert!(message.starts_with("The request signature we calculated does not match"));

    // Signed 16 minutes ago, and 16 minutes ahead.
    let old = VECTOR_SECS - 16 * 60;
    let headers = signed(
        target,
        body,
        VECTOR_KEY,
        VECTOR_SECRET,
        "kms",
        "us-west-2",
        old,
    );
    assert_eq!(
        error(&handle(&d, &headers, body)),
        (
            400,
            "InvalidSignatureException".into(),
            "Signature expired: 20261130T033436Z is now earlier than 20261130T033536Z (20261130T035036Z - 15 min.)".into()
        )
    );
    let ahead = VECTOR_SECS + 16 * 60;
    let headers = signed(
        target,
        body,
        VECTOR_KEY,
        VECTOR_SECRET,
        "kms",
        "us-west-2",
        ahead,
    );
    let (status, kind, message) = error(&handle(&d, &headers, body));
    assert_eq!((status, kind.as_str()), (400, "InvalidSignatureException"));
    assert!(
        message.starts_with("Signature not yet current: 20261130T040636Z is still later than"),
        "{message}"
    );
    // 14 minutes either way is fine; the clock is the server's.
    for secs in [VECTOR_SECS - 14 * 60, VECTOR_SECS + 14 * 60] {
        let headers = signed(
            target,
            body,
            VECTOR_KEY,
            VECTOR_SECRET,
            "kms",
            "us-west-2",
            secs,
        );
        assert_eq!(handle(&d, &headers, body).status, 200);
    }
    clock.advance(Duration::from_secs(30 * 60));
    let headers = signed(
        target,
        body,
        VECTOR_KEY,
        VECTOR_SECRET,
        "kms",
        "us-west-2",
        VECTOR_SECS,
    );
    assert_eq!(
        error(&handle(&d, &headers, body)).1,
        "InvalidSignatureException"
    );
    clock.set(Timestamp::from_millis(VECTOR_SECS * 1000));

    // Another service's scope; cloudhsmv2 signs as `cloudhsm`.
    let headers = signed(
        target,
        body,
        VECTOR_KEY,
        VECTOR_SECRET,
        "cloudhsm",
        "us-west-2",
        VECTOR_SECS,
    );
    assert_eq!(
        error(&handle(&d, &headers, body)),
        (
            400,
            "InvalidSignatureException".into(),
            "Credential should be scoped to correct service: 'kms'.".into()
        )
    );
    let hsm_target = "BaldrApiService.DescribeClusters";
    let headers = signed(
        hsm_target,
        body,
        VECTOR_KEY,
        VECTOR_SECRET,
        "kms",
        "us-west-2",
        VECTOR_SECS,
    );
    assert_eq!(
        error(&handle(&d, &headers, body)).2,
        "Credential should be scoped to correct service: 'cloudhsm'."
    );
    let headers = signed(
        hsm_target,
        body,
        VECTOR_KEY,
        VECTOR_SECRET,
        "cloudhsm",
        "us-west-2",
        VECTOR_SECS,
    );
    assert_eq!(handle(&d, &headers, body).status, 200);

    // A Region that is not one, or of another partition.
    for region in ["moon-1", "cn-north-1"] {
        let headers = signed(
            target,
            body,
            VECTOR_KEY,
            VECTOR_SECRET,
            "kms",
            region,
            VECTOR_SECS,
        );
        assert_eq!(
            error(&handle(&d, &headers, body)),
            (
                400,
                "InvalidSignatureException".into(),
                format!("Credential should be scoped to a valid region, not '{region}'.")
            )
        );
    }

    // Not a SigV4 header; parts missing.
    for bad in [
        "Bearer abc",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261130/us-east-1/kms/aws4_request",
    ] {
        let headers = vec![
            ("x-amz-target".to_owned(), target.to_owned()),
            ("authorization".to_owned(), bad.to_owned()),
        ];
        assert_eq!(
            error(&handle(&d, &headers, body)).1,
            "IncompleteSignatureException",
            "{bad}"
        );
    }
    // No secret in any refusal.
    let headers = signed(
        target,
        body,
        VECTOR_KEY,
        "x",
        "kms",
        "us-west-2",
        VECTOR_SECS,
    );
    let resp = handle(&d, &headers, body);
    assert!(!String::from_utf8_lossy(&resp.body).contains(VECTOR_SECRET));
    assert!(!format!("{d:?}").contains(VECTOR_SECRET));
}

#[test]
fn permissive_mode_takes_the_region_and_ignores_key_signature_and_date() {
    let clock = clock_at(VECTOR_SECS);
    let d = server("{}", &clock, None);
    assert_eq!(d.auth(), AuthMode::Permissive);
    let body = br#"{"Description":"p"}"#;
    // Any key, any secret, a 1970 date: the root of the default account, in
    // the scope's Region.
    let headers = signed(
        "TrentService.CreateKey",
        body,
        "ANYKEY",
        "anysecret",
        "kms",
        "eu-west-1",
        0,
    );
    let resp = handle(&d, &headers, body);
    assert_eq!(resp.status, 200, "{resp:?}");
    let arn = resp.json().unwrap()["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        arn.starts_with("arn:aws:kms:eu-west-1:111122223333:key/"),
        "{arn}"
    );
    // No Authorization: the default account and Region.
    let headers = vec![(
        "x-amz-target".to_owned(),
        "TrentService.CreateKey".to_owned(),
    )];
    let arn = handle(&d, &headers, body).json().unwrap()["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        arn.starts_with("arn:aws:kms:us-west-2:111122223333:key/"),
        "{arn}"
    );
    // A malformed header is still refused, and the service still checked.
    let headers = vec![
        (
            "x-amz-target".to_owned(),
            "TrentService.ListKeys".to_owned(),
        ),
        ("authorization".to_owned(), "garbage".to_owned()),
    ];
    assert_eq!(
        error(&handle(&d, &headers, b"{}")).1,
        "IncompleteSignatureException"
    );
    let headers = signed(
        "TrentService.ListKeys",
        b"{}",
        "K",
        "s",
        "s3",
        "us-west-2",
        0,
    );
    assert_eq!(
        error(&handle(&d, &headers, b"{}")).1,
        "InvalidSignatureException"
    );
}

#[test]
fn two_regions_keep_separate_keys_and_seeds() {
    let clock = clock_at(VECTOR_SECS);
    let d = server(r#"{"seed": 7}"#, &clock, Some(AuthMode::Permissive));
    let create = |region: &str| {
        let headers = signed(
            "TrentService.CreateKey",
            b"{}",
            "K",
            "s",
            "kms",
            region,
            VECTOR_SECS,
        );
        let v = handle(&d, &headers, b"{}").json().unwrap();
        v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
    };
    let list = |region: &str| -> Vec<String> {
        let headers = signed(
            "TrentService.ListKeys",
            b"{}",
            "K",
            "s",
            "kms",
            region,
            VECTOR_SECS,
        );
        let v: Value = handle(&d, &headers, b"{}").json().unwrap();
        v["Keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["KeyId"].as_str().unwrap().to_owned())
            .collect()
    };
    let west = create("us-west-2");
    let east = create("us-east-1");
    assert_ne!(west, east, "each Region has its own seed");
    assert_eq!(list("us-west-2"), vec![west.clone()]);
    assert_eq!(list("us-east-1"), vec![east.clone()]);
    // The default Region keeps the fixture's seed: the same first key id
    // as a plain seeded Kms of the fixture.
    let (plain, _) = Fixture::from_json(r#"{"seed": 7}"#)
        .unwrap()
        .build()
        .unwrap();
    let id = plain
        .create_key(Default::default())
        .unwrap()
        .key_metadata
        .key_id
        .to_string();
    assert_eq!(id, west);
}

/// Seed 001's flow: account 444455556666 owns a key whose policy lets
/// account 111122223333 use it; ExampleRole there may, bob may not.
const SEED_001_FIXTURE: &str = r#"{
  "principals": [
    {"arn": "arn:aws:iam::444455556666:root",
     "access_key_id": "AKIAOWNER00000000001", "secret_access_key": "owner-secret-0000000000000000000000000000"},
    {"arn": "arn:aws:iam::111122223333:role/ExampleRole",
     "access_key_id": "AKIAROLE000000000001", "secret_access_key": "role-secret-00000000000000000000000000000",
     "policies": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}}],
     "tags": {"team": "blue"}},
    {"arn": "arn:aws:iam::111122223333:user/bob",
     "access_key_id": "AKIABOB0000000000001", "secret_access_key": "bob-secret-000000000000000000000000000000"}
  ]
}"#;

#[test]
fn strict_mode_seed_001_principals_decide_through_policies() {
    let clock = clock_at(VECTOR_SECS);
    let d = server(SEED_001_FIXTURE, &clock, None);
    assert_eq!(d.auth(), AuthMode::Strict);
    let call = |key: &str, secret: &str, target: &str, body: &Value| {
        let body = body.to_string();
        let headers = signed(
            target,
            body.as_bytes(),
            key,
            secret,
            "kms",
            "us-west-2",
            VECTOR_SECS,
        );
        handle(&d, &headers, body.as_bytes())
    };
    let owner = (
        "AKIAOWNER00000000001",
        "owner-secret-0000000000000000000000000000",
    );
    let role = (
        "AKIAROLE000000000001",
        "role-secret-00000000000000000000000000000",
    );
    let bob = (
        "AKIABOB0000000000001",
        "bob-secret-000000000000000000000000000000",
    );
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Account 1", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}]});
    let created = call(
        owner.0,
        owner.1,
        "TrentService.CreateKey",
        &json!({"Policy": policy.to_string()}),
    );
    assert_eq!(created.status, 200, "{created:?}");
    let arn = created.json().unwrap()["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        arn.starts_with("arn:aws:kms:us-west-2:444455556666:key/"),
        "{arn}"
    );

    let encrypt = json!({"KeyId": arn, "Plaintext": "aGk="});
    let resp = call(role.0, role.1, "TrentService.Encrypt", &encrypt);
    assert_eq!(resp.status, 200, "{resp:?}");
    let (status, kind, message) = error(&call(bob.0, bob.1, "TrentService.Encrypt", &encrypt));
    assert_eq!((status, kind.as_str()), (400, "AccessDeniedException"));
    assert!(
        message.contains("arn:aws:iam::111122223333:user/bob"),
        "{message}"
    );
    // The role signs as a session named after its access key.
    let (_, kind, message) = error(&call(role.0, role.1, "TrentService.CreateKey", &json!({})));
    assert_eq!(kind, "AccessDeniedException");
    assert!(
        message.contains("assumed-role/ExampleRole/AKIAROLE000000000001"),
        "{message}"
    );
    // A key created by bob's account root is not the owner's: bob's keys
    // live in 111122223333.
    let resp = call(bob.0, bob.1, "TrentService.ListKeys", &json!({}));
    assert_eq!(error(&resp).1, "AccessDeniedException");
}

#[test]
fn a_key_issued_by_iam_signs_too() {
    let clock = clock_at(VECTOR_SECS);
    let d = server(VECTOR_FIXTURE, &clock, None);
    let iam = d.kms().iam();
    let alice = iam.create_user("111122223333", "/", "alice").unwrap();
    let key = iam.create_access_key(&alice).unwrap();
    let headers = signed(
        "TrentService.ListKeys",
        b"{}",
        &key.access_key_id,
        key.secret_access_key.expose_secret(),
        "kms",
        "us-west-2",
        VECTOR_SECS,
    );
    // alice has no IAM policy: verified, then denied.
    let (_, kind, message) = error(&handle(&d, &headers, b"{}"));
    assert_eq!(kind, "AccessDeniedException");
    assert!(message.contains("user/alice"), "{message}");
}

#[cfg(feature = "durable")]
#[test]
fn a_durable_server_keeps_keys_aliases_stores_and_grants_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("kms-wire-sigv4-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let fixture = r#"{
      "seed": 11,
      "cloudhsm_clusters": [{
        "id": "cluster-jw7qqa4ryqv",
        "subnets": {"subnet-a6b10bd1": "us-west-2a", "subnet-b6b10bd2": "us-west-2b"},
        "hsms": ["us-west-2a", "us-west-2b"],
        "users": [{"name": "kmsuser", "password": "kmsPswd1"}]
      }]
    }"#;
    let clock = clock_at(VECTOR_SECS);
    let open = || {
        let mut options = ServerOptions::default();
        options.clock = Some(clock.clone());
        options.data_dir = Some(dir.clone());
        options.root_key = Some(kms_keystore::RootKey::from_bytes([9; 32]));
        Fixture::from_json(fixture)
            .unwrap()
            .build_server(&options)
            .unwrap()
    };
    let call = |d: &Dispatcher, region: &str, target: &str, body: &Value| {
        let body = body.to_string();
        let headers = signed(
            target,
            body.as_bytes(),
            "K",
            "s",
            "kms",
            region,
            VECTOR_SECS,
        );
        let resp = handle(d, &headers, body.as_bytes());
        assert!(resp.is_success(), "{target}: {resp:?}");
        resp.json().unwrap()
    };
    let (first_key, east_key, store) = {
        let (d, provisioned) = open();
        assert_eq!(provisioned.cloudhsm_clusters.len(), 1);
        let key =
            call(&d, "us-west-2", "TrentService.CreateKey", &json!({}))["KeyMetadata"]["KeyId"]
                .as_str()
                .unwrap()
                .to_owned();
        call(
            &d,
            "us-west-2",
            "TrentService.CreateAlias",
            &json!({"AliasName": "alias/kept", "TargetKeyId": key}),
        );
        call(
            &d,
            "us-west-2",
            "TrentService.CreateGrant",
            &json!({"KeyId": key,
            "GranteePrincipal": "arn:aws:iam::111122223333:user/bob", "Operations": ["Encrypt"]}),
        );
        let store = call(&d, "us-west-2", "TrentService.CreateCustomKeyStore", &json!({
            "CustomKeyStoreName": "kept", "CloudHsmClusterId": "cluster-jw7qqa4ryqv",
            "KeyStorePassword": "kmsPswd1",
            "TrustAnchorCertificate": provisioned.cloudhsm_clusters[0].trust_anchor.clone().unwrap()}))
            ["CustomKeyStoreId"].as_str().unwrap().to_owned();
        let east =
            call(&d, "us-east-1", "TrentService.CreateKey", &json!({}))["KeyMetadata"]["KeyId"]
                .as_str()
                .unwrap()
                .to_owned();
        (key, east, store)
    };
    assert!(dir.join("111122223333-us-west-2.redb").exists());
    assert!(dir.join("111122223333-us-east-1.redb").exists());

    let (d, provisioned) = open();
    // The cluster came back from the file, not provisioned again.
    assert!(provisioned.cloudhsm_clusters.is_empty());
    let v = call(
        &d,
        "us-west-2",
        "TrentService.DescribeKey",
        &json!({"KeyId": "alias/kept"}),
    );
    assert_eq!(v["KeyMetadata"]["KeyId"], first_key.as_str());
    let grants = call(
        &d,
        "us-west-2",
        "TrentService.ListGrants",
        &json!({"KeyId": first_key}),
    );
    assert_eq!(grants["Grants"].as_array().unwrap().len(), 1);
    let stores = call(
        &d,
        "us-west-2",
        "TrentService.DescribeCustomKeyStores",
        &json!({}),
    );
    assert_eq!(
        stores["CustomKeyStores"][0]["CustomKeyStoreId"],
        store.as_str()
    );
    let v = call(
        &d,
        "us-east-1",
        "TrentService.DescribeKey",
        &json!({"KeyId": east_key}),
    );
    assert_eq!(v["KeyMetadata"]["KeyId"], east_key.as_str());
    // The seeded stream continues instead of repeating.
    let next = call(&d, "us-west-2", "TrentService.CreateKey", &json!({}))["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(next, first_key);
    drop(d);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn temporary_credentials_need_their_session_token() {
    let clock = clock_at(VECTOR_SECS);
    let fixture = r#"{
      "principals": [{"arn": "arn:aws:iam::111122223333:root",
                      "access_key_id": "ASIAIOSFODNN7EXAMPLE",
                      "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                      "session_token": "FwoGZXIvYXdzEXAMPLETOKEN"},
                     {"arn": "arn:aws:iam::111122223333:root",
                      "access_key_id": "AKIAIOSFODNN7EXAMPLE",
                      "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}]
    }"#;
    let d = server(fixture, &clock, None);
    let call = |key: &str, token: Option<&str>| {
        let headers = signed_with_token(
            "TrentService.CreateKey",
            b"{}",
            (key, VECTOR_SECRET, token),
            "kms",
            "us-west-2",
            VECTOR_SECS,
        );
        handle(&d, &headers, b"{}")
    };
    let ok = call("ASIAIOSFODNN7EXAMPLE", Some("FwoGZXIvYXdzEXAMPLETOKEN"));
    assert_eq!(ok.status, 200, "{ok:?}");
    let unrecognized = (
        400,
        "UnrecognizedClientException".to_owned(),
        "The security token included in the request is invalid.".to_owned(),
    );
    // Without the token, with another token, or a token on a long-term key.
    assert_eq!(error(&call("ASIAIOSFODNN7EXAMPLE", None)), unrecognized);
    assert_eq!(
        error(&call(
            "ASIAIOSFODNN7EXAMPLE",
            Some("FwoGZXIvYXdzOTHERTOKEN")
        )),
        unrecognized
    );
    assert_eq!(
        error(&call(
            "AKIAIOSFODNN7EXAMPLE",
            Some("FwoGZXIvYXdzEXAMPLETOKEN")
        )),
        unrecognized
    );
    assert_eq!(call("AKIAIOSFODNN7EXAMPLE", None).status, 200);
}

#[test]
fn replicate_key_reaches_a_region_the_server_has_not_served_yet() {
    let clock = clock_at(VECTOR_SECS);
    let d = server(r#"{"seed": 7}"#, &clock, Some(AuthMode::Permissive));
    let call = |target: &str, region: &str, body: Value| -> Value {
        let body = body.to_string();
        let headers = signed(
            &format!("TrentService.{target}"),
            body.as_bytes(),
            "K",
            "s",
            "kms",
            region,
            VECTOR_SECS,
        );
        handle(&d, &headers, body.as_bytes()).json().unwrap()
    };
    let created = call("CreateKey", "us-east-1", json!({"MultiRegion": true}));
    let key = created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    assert!(key.starts_with("mrk-"), "{created}");
    assert_eq!(
        created["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"],
        "PRIMARY"
    );
    let blob = call(
        "Encrypt",
        "us-east-1",
        json!({"KeyId": key, "Plaintext": "aGk="}),
    )["CiphertextBlob"]
        .clone();
    let replica = call(
        "ReplicateKey",
        "us-east-1",
        json!({"KeyId": key, "ReplicaRegion": "ap-northeast-1"}),
    );
    assert_eq!(
        replica["ReplicaKeyMetadata"]["Arn"],
        format!("arn:aws:kms:ap-northeast-1:111122223333:key/{key}"),
        "{replica}"
    );
    assert!(replica["ReplicaPolicy"].as_str().is_some(), "{replica}");
    let plain = call("Decrypt", "ap-northeast-1", json!({"CiphertextBlob": blob}));
    assert_eq!(plain["Plaintext"], "aGk=", "{plain}");
    assert_eq!(
        plain["KeyId"],
        format!("arn:aws:kms:ap-northeast-1:111122223333:key/{key}")
    );
    let described = call("DescribeKey", "ap-northeast-1", json!({"KeyId": key}));
    assert_eq!(
        described["KeyMetadata"]["MultiRegionConfiguration"]["ReplicaKeys"][0]["Region"],
        "ap-northeast-1"
    );
    let moved = call(
        "UpdatePrimaryRegion",
        "us-east-1",
        json!({"KeyId": key, "PrimaryRegion": "ap-northeast-1"}),
    );
    assert_eq!(moved, json!({}));
    let described = call("DescribeKey", "us-east-1", json!({"KeyId": key}));
    assert_eq!(
        described["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"],
        "REPLICA"
    );
}
