//! The policy engine against a reference evaluator written apart from it
//! (`policy_reference/`, from the shared contract and AWS's documented
//! evaluation rules).
//!
//! - `engine_agrees_with_reference`: over 100,000 random (policy, request)
//!   pairs, both must accept or reject each document alike (as its own kind
//!   and as the other kind), and give the same `Evaluation` for every
//!   request to an accepted one. A disagreement prints the policy, the
//!   request and both answers (after shrinking).
//! - `reference_vectors` / `engine_vectors`: hand-written cases on the
//!   trickiest points of the contract, with the answers written by hand,
//!   run against each evaluator.
//! - `caller_pool_matches_crate_principals`, `reference_dates`: the
//!   reference's own footing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod policy_reference;

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::Instant;

use kms_keystore::Principal;
use kms_keystore::internal::policy::{
    Caller as EngineCaller, ConditionContext, Evaluation, Policy, PolicyKind, PrincipalMatch,
    Request,
};
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestRng, TestRunner,
};
use serde_json::{Value, json};

use policy_reference::generator::{
    Build, CallerDef, Case, GenRequest, KEY_ARN, callers, case, view,
};
use policy_reference::{BASES, Decision, How, Kind, Req, Stats, check, epoch_ms, evaluate};

// ---------------------------------------------------------------------------
// The comparison boundary

fn principal(build: &Build) -> Principal {
    let acct = |a: &str| a.parse().expect("account id");
    match *build {
        Build::Root(a) => Principal::root(acct(a)),
        Build::User(a, path, name) => Principal::user(acct(a), name).with_path(path),
        Build::Role(a, name) => Principal::role(acct(a), name),
        Build::Assumed(a, role, session, _) => Principal::assumed_role(acct(a), role, session),
        Build::Service(name) => Principal::service(name),
    }
}

/// The engine's caller for a pool entry: the crate's principal, with the
/// reference's `match_arns` (so both see the same ARNs).
fn engine_caller(def: &CallerDef) -> EngineCaller {
    let mut caller = EngineCaller::new(principal(&def.build));
    caller.match_arns = def.caller.match_arns.clone();
    caller
}

fn engine_kind(kind: Kind) -> PolicyKind {
    match kind {
        Kind::Key => PolicyKind::Key,
        Kind::Identity => PolicyKind::Identity,
    }
}

fn other(kind: Kind) -> Kind {
    match kind {
        Kind::Key => Kind::Identity,
        Kind::Identity => Kind::Key,
    }
}

/// The engine's answer in the reference's terms.
fn from_engine(e: &Evaluation) -> Decision {
    Decision {
        deny: e.deny.as_ref().map(|s| (s.index, s.sid.clone())),
        allow: e.allow.as_ref().map(|(s, m)| {
            let how = match m {
                PrincipalMatch::Direct => How::Direct,
                PrincipalMatch::Account => How::Account,
            };
            (s.index, s.sid.clone(), how)
        }),
    }
}

fn engine_context(entries: &[(String, Vec<String>)]) -> ConditionContext {
    let mut cx = ConditionContext::default();
    for (k, vs) in entries {
        cx.set_values(k, vs.clone());
    }
    cx
}

/// The document pretty-printed when it is JSON, else as it is.
fn shown(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// What one request asks, for failure messages.
fn describe(
    caller: &CallerDef,
    action: &str,
    resource: &str,
    cx: &[(String, Vec<String>)],
) -> String {
    let mut s = format!(
        "caller: {:?} (match_arns {:?})\naction: {action}\nresource: {resource}\ncontext:",
        caller.build, caller.caller.match_arns
    );
    if cx.is_empty() {
        s.push_str(" (none)");
    }
    for (k, vs) in cx {
        let _ = write!(s, "\n  {k} = {vs:?}");
    }
    s
}

/// Both evaluators' verdict on a document: agree on accept/reject, then
/// on every request in `requests`. `Ok(accepted)`; `Err` describes a
/// disagreement.
fn compare_one(
    text: &str,
    kind: Kind,
    requests: &[GenRequest],
    pool: &[CallerDef],
    engine_callers: &[EngineCaller],
    stats: &mut Stats,
    tally: &mut Tally,
) -> Result<bool, String> {
    let ours = check(text, kind);
    let theirs = Policy::parse(text, engine_kind(kind));
    let (doc, policy) = match (ours, theirs) {
        (Ok(doc), Ok(policy)) => (doc, policy),
        (Err(_), Err(_)) => return Ok(false),
        (Err(why), Ok(_)) => {
            return Err(format!(
                "the reference rejects this {kind:?} policy ({why}); the engine accepts it:\n{}",
                shown(text)
            ));
        }
        (Ok(_), Err(e)) => {
            return Err(format!(
                "the reference accepts this {kind:?} policy; the engine rejects it ({e}):\n{}",
                shown(text)
            ));
        }
    };
    for r in requests {
        let def = &pool[r.caller];
        let ours = evaluate(
            &doc,
            &Req {
                caller: &def.caller,
                action: &r.action,
                resource: &r.resource,
                context: &r.context,
            },
            kind,
            stats,
        );
        let cx = engine_context(&r.context);
        let theirs = from_engine(&policy.evaluate(&Request {
            caller: &engine_callers[r.caller],
            action: &r.action,
            resource: &r.resource,
            context: &cx,
        }));
        tally.note(&ours);
        if ours != theirs {
            return Err(format!(
                "the evaluators disagree on a {kind:?} policy\npolicy:\n{}\nas given: {text}\n{}\nreference: {ours:?}\nengine:    {theirs:?}",
                shown(text),
                describe(def, &r.action, &r.resource, &r.context)
            ));
        }
    }
    Ok(true)
}

/// Counts over a run, to show the cases reach every outcome.
#[derive(Debug, Default)]
struct Tally {
    accepted: u64,
    rejected: u64,
    evaluations: u64,
    deny: u64,
    allow_direct: u64,
    allow_account: u64,
}

impl Tally {
    fn note(&mut self, d: &Decision) {
        self.evaluations += 1;
        self.deny += u64::from(d.deny.is_some());
        match d.allow {
            Some((_, _, How::Direct)) => self.allow_direct += 1,
            Some((_, _, How::Account)) => self.allow_account += 1,
            None => {}
        }
    }
}

// ---------------------------------------------------------------------------
// The differential test

/// Requests asked of each random document.
const REQUESTS_PER_CASE: usize = 24;
/// Random documents (override with `POLICY_DIFF_CASES`).
const CASES: u32 = 4_800;

#[test]
fn engine_agrees_with_reference() {
    let pool = callers();
    let engine_callers: Vec<EngineCaller> = pool.iter().map(engine_caller).collect();
    let cases = std::env::var("POLICY_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CASES);
    let config = ProptestConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 4_096,
        ..ProptestConfig::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::XorShift));
    let stats = RefCell::new(Stats::default());
    let tally = RefCell::new(Tally::default());
    let started = Instant::now();
    let outcome = runner.run(&case(REQUESTS_PER_CASE), |c: Case| {
        let (mut stats, mut tally) = (stats.borrow_mut(), tally.borrow_mut());
        let accepted = compare_one(
            &c.text,
            c.kind,
            &c.requests,
            &pool,
            &engine_callers,
            &mut stats,
            &mut tally,
        )
        .map_err(TestCaseError::fail)?;
        if accepted {
            tally.accepted += 1;
        } else {
            tally.rejected += 1;
        }
        // The same text as the other kind: accept/reject must agree too.
        compare_one(
            &c.text,
            other(c.kind),
            &[],
            &pool,
            &engine_callers,
            &mut stats,
            &mut tally,
        )
        .map_err(TestCaseError::fail)?;
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let (stats, tally) = (stats.into_inner(), tally.into_inner());
    eprintln!("{tally:?} in {:?}", started.elapsed());

    // The run is as large as promised and reaches every outcome.
    if cases == CASES {
        assert!(tally.evaluations >= 100_000, "{tally:?}");
    }
    let n = tally.evaluations.max(1);
    assert!(tally.deny * 20 >= n, "too few denies: {tally:?}");
    assert!(
        tally.allow_direct * 20 >= n,
        "too few direct allows: {tally:?}"
    );
    assert!(
        tally.allow_account * 200 >= n,
        "too few account allows: {tally:?}"
    );
    assert!(
        tally.rejected * 50 >= u64::from(cases),
        "too few malformed: {tally:?}"
    );
    let floor = u64::from(cases) / 100;
    let mut thin = Vec::new();
    let labels = BASES.iter().map(|(b, _, _)| *b).chain([
        "plain",
        "IfExists",
        "ForAnyValue",
        "ForAnyValue+IfExists",
        "ForAllValues",
        "ForAllValues+IfExists",
    ]);
    for label in labels {
        for outcome in [true, false] {
            if stats.count(label, outcome) < floor {
                thin.push(format!(
                    "{label}={outcome}: {}",
                    stats.count(label, outcome)
                ));
            }
        }
    }
    assert!(thin.is_empty(), "outcomes seldom reached: {thin:?}");
}

// ---------------------------------------------------------------------------
// Hand-written vectors

/// One hand-written case: a document, a request, and the answer (`None`:
/// malformed).
struct Vector {
    name: &'static str,
    kind: Kind,
    policy: Value,
    caller: Build,
    action: &'static str,
    resource: &'static str,
    context: Vec<(&'static str, Vec<&'static str>)>,
    expect: Option<Decision>,
}

fn deny(i: usize, sid: Option<&str>) -> Option<(usize, Option<String>)> {
    Some((i, sid.map(str::to_owned)))
}

fn allow(i: usize, sid: Option<&str>, how: How) -> Option<(usize, Option<String>, How)> {
    Some((i, sid.map(str::to_owned), how))
}

fn decision(
    deny: Option<(usize, Option<String>)>,
    allow: Option<(usize, Option<String>, How)>,
) -> Option<Decision> {
    Some(Decision { deny, allow })
}

const BOB: Build = Build::User("111122223333", "/", "bob");

/// A vector for user bob asking kms:Encrypt on the key, to adjust.
fn vector(name: &'static str, kind: Kind, policy: Value, expect: Option<Decision>) -> Vector {
    Vector {
        name,
        kind,
        policy,
        caller: BOB,
        action: "kms:Encrypt",
        resource: KEY_ARN,
        context: Vec::new(),
        expect,
    }
}

impl Vector {
    fn caller(mut self, c: Build) -> Vector {
        self.caller = c;
        self
    }
    fn action(mut self, a: &'static str) -> Vector {
        self.action = a;
        self
    }
    fn resource(mut self, r: &'static str) -> Vector {
        self.resource = r;
        self
    }
    fn with(mut self, k: &'static str, vs: &[&'static str]) -> Vector {
        self.context.push((k, vs.to_vec()));
        self
    }
}

/// An identity policy allowing everything on `*` under `condition`.
fn allow_if(condition: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}]})
}

#[allow(clippy::too_many_lines, reason = "a table")]
fn vectors() -> Vec<Vector> {
    use How::{Account, Direct};
    use Kind::{Identity, Key};
    let yes = || decision(None, allow(0, None, Direct));
    let no = || decision(None, None);
    let layered = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "AcctAllow", "Effect": "Allow", "Principal": {"AWS": "111122223333"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "BobAllow", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:user/bob"},
         "Action": "kms:Encrypt", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "D2", "Effect": "Deny", "Principal": {"AWS": "111122223333"},
         "Action": "kms:*crypt", "Resource": "*"}]});
    let aws_star = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Any", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]});
    let not_principal = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
    let role = json!({"Statement": {"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/ExampleRole"},
        "Action": "kms:Encrypt", "Resource": "*"}});
    let star_literal = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
        "Action": "kms:*", "Resource": "arn:aws:kms:us-west-2:444455556666:key/${*}"}});
    let by_name = |version: &str| {
        json!({"Version": version, "Statement": {"Effect": "Allow",
        "Action": "kms:*", "Resource": "arn:aws:kms:us-west-2:444455556666:alias/${aws:username}"}})
    };
    let unresolved = json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny",
        "Action": "*", "Resource": "*",
        "Condition": {"StringNotEquals": {"kms:EncryptionContext:purpose": "${aws:username}"}}}});
    let sets = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*",
         "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["Env"]}}},
        {"Sid": "Any", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "Env"}}}]});
    let any_if_exists = allow_if(json!({"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "E*"}}));
    let negated = json!({"Statement": [
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringNotLike": {"kms:ViaService": "dynamodb.*"}}},
        {"Effect": "Allow", "Action": "*", "Resource": "*",
         "Condition": {"StringLike": {"kms:ViaService": "dynamodb.*"}}}]});
    let date = allow_if(json!({"DateEquals": {"aws:CurrentTime": "2020-01-01T01:00:00+01:00"}}));
    let numeric = allow_if(json!({"NumericNotEquals": {"aws:MultiFactorAuthAge": 7}}));
    let ip = allow_if(json!({"IpAddress": {"aws:SourceIp": ["::/0", "10.0.0.0/8"]}}));
    let arn_star = allow_if(json!({"ArnLike": {"aws:SourceArn": "*"}}));
    let arn_colons =
        allow_if(json!({"ArnLike": {"aws:SourceArn": "arn:aws:kms:*:444455556666:key/a:*"}}));
    let arn_var = allow_if(json!({"ArnEquals": {"aws:SourceArn": "${aws:PrincipalArn}"}}));
    let bad = |condition: Value| json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}});
    let bob_arn = "arn:aws:iam::111122223333:user/bob";
    vec![
        // Which statement decides.
        vector("a direct allow beats an earlier account allow; the first deny decides", Key,
            layered.clone(), decision(deny(3, Some("D2")), allow(1, Some("BobAllow"), Direct))),
        vector("an account match alone gives an account allow", Key, layered.clone(),
            decision(None, allow(0, Some("AcctAllow"), Account)))
            .caller(Build::Role("111122223333", "ExampleRole")).action("kms:GenerateDataKey"),
        vector("the account root is named directly by its account id", Key, layered,
            decision(deny(2, None), allow(0, Some("AcctAllow"), Direct)))
            .caller(Build::Root("111122223333")).action("kms:Decrypt"),
        // Principals.
        vector("{\"AWS\":\"*\"} leaves out services; \"*\" does not", Key, aws_star.clone(),
            decision(None, allow(1, Some("Any"), Direct)))
            .caller(Build::Service("dynamodb.amazonaws.com")),
        vector("{\"AWS\":\"*\"} names every AWS principal", Key, aws_star, yes())
            .caller(Build::Root("777788889999")),
        vector("service principals compare ignoring case", Key,
            json!({"Statement": {"Effect": "Deny", "Principal": {"Service": "DynamoDB.AmazonAWS.com"},
                "Action": "*", "Resource": "*"}}),
            decision(deny(0, None), None))
            .caller(Build::Service("dynamodb.amazonaws.com")),
        vector("NotPrincipal: an account match is a match", Key, not_principal.clone(),
            decision(None, allow(1, None, Direct))),
        vector("NotPrincipal applies to a principal it does not name", Key, not_principal,
            decision(deny(0, None), allow(1, None, Direct)))
            .caller(Build::User("777788889999", "/", "bob")),
        vector("a session is named by its role's ARN", Key, role.clone(), yes())
            .caller(Build::Assumed("111122223333", "ExampleRole", "s1", "/")),
        vector("a session of a role with a path is not named by the path-less ARN", Key, role, no())
            .caller(Build::Assumed("111122223333", "ExampleRole", "s1", "/team/")),
        // Actions and resources.
        vector("action patterns ignore case; ? is one character", Identity,
            json!({"Statement": {"Effect": "Allow", "Action": ["KMS:?NCRYPT"], "Resource": "*"}}),
            yes()),
        vector("? does not match a different letter", Identity,
            json!({"Statement": {"Effect": "Allow", "Action": ["KMS:?NCRYPT"], "Resource": "*"}}),
            no()).action("kms:Decrypt"),
        vector("a statement without Resource never applies; NotAction/NotResource", Identity,
            json!({"Statement": [{"Effect": "Deny", "Action": "*"},
                {"Effect": "Allow", "NotAction": "kms:Decrypt",
                 "NotResource": "arn:aws:kms:*:111122223333:*"}]}),
            decision(None, allow(1, None, Direct))),
        vector("${*} is a literal star, not a wildcard", Identity, star_literal.clone(), no()),
        vector("${*} matches a literal star", Identity, star_literal, yes())
            .resource("arn:aws:kms:us-west-2:444455556666:key/*"),
        vector("2012-10-17 resolves variables", Identity, by_name("2012-10-17"), yes())
            .resource("arn:aws:kms:us-west-2:444455556666:alias/bob").with("aws:username", &["bob"]),
        vector("2008-10-17 keeps variables literal", Identity, by_name("2008-10-17"), no())
            .resource("arn:aws:kms:us-west-2:444455556666:alias/bob").with("aws:username", &["bob"]),
        vector("2008-10-17 matches the variable's text", Identity, by_name("2008-10-17"), yes())
            .resource("arn:aws:kms:us-west-2:444455556666:alias/${aws:username}")
            .with("aws:username", &["bob"]),
        vector("a variable's default applies when the key is absent", Identity,
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*",
                "Resource": "arn:aws:kms:us-west-2:444455556666:alias/${aws:username, 'bob'}"}}),
            yes()).resource("arn:aws:kms:us-west-2:444455556666:alias/bob"),
        // Conditions.
        vector("an unresolved variable matches nothing, so a negated operator holds", Identity,
            unresolved.clone(), decision(deny(0, None), None))
            .with("kms:EncryptionContext:purpose", &["test"]),
        vector("a multivalued key does not resolve a variable", Identity, unresolved.clone(),
            decision(deny(0, None), None))
            .with("kms:EncryptionContext:purpose", &["test"]).with("aws:username", &["test", "x"]),
        vector("a resolved variable compares", Identity, unresolved, no())
            .with("kms:EncryptionContext:purpose", &["test"]).with("aws:username", &["test"]),
        vector("ForAllValues holds on an absent key; ForAnyValue does not", Identity, sets.clone(),
            decision(None, allow(0, Some("All"), Direct))),
        vector("ForAllValues holds on an empty key; ForAnyValue does not", Identity, sets.clone(),
            decision(None, allow(0, Some("All"), Direct))).with("aws:TagKeys", &[]),
        vector("ForAllValues fails on one unmatched value; ForAnyValue holds on one match",
            Identity, sets.clone(), decision(deny(1, Some("Any")), None))
            .with("aws:TagKeys", &["Env", "Owner"]),
        vector("both set operators hold when every value matches", Identity, sets,
            decision(deny(1, Some("Any")), allow(0, Some("All"), Direct)))
            .with("aws:TagKeys", &["Env"]),
        vector("ForAnyValue…IfExists holds on an absent key", Identity, any_if_exists.clone(), yes()),
        vector("ForAnyValue…IfExists fails on a present, empty key", Identity,
            any_if_exists.clone(), no()).with("aws:TagKeys", &[]),
        vector("StringLike is case-sensitive", Identity, any_if_exists, no())
            .with("aws:TagKeys", &["env"]),
        vector("Null true holds for a key with no values", Identity,
            allow_if(json!({"Null": {"aws:TagKeys": "true"}})), yes()).with("aws:TagKeys", &[]),
        vector("Null false needs a value", Identity,
            allow_if(json!({"Null": {"aws:TagKeys": false}})), no()).with("aws:TagKeys", &[]),
        vector("a negated operator holds on an absent key, a positive one not", Identity,
            negated.clone(), decision(deny(0, None), None)),
        vector("the positive twin holds when the key matches", Identity, negated,
            decision(None, allow(1, None, Direct)))
            .with("kms:ViaService", &["dynamodb.us-west-2.amazonaws.com"]),
        vector("dates: epoch seconds equal an offset time", Identity, date.clone(), yes())
            .with("aws:CurrentTime", &["1577836800"]),
        vector("dates: fractions are truncated to milliseconds", Identity, date.clone(), yes())
            .with("aws:CurrentTime", &["2020-01-01T00:00:00.0009Z"]),
        vector("dates: one millisecond differs", Identity, date, no())
            .with("aws:CurrentTime", &["2020-01-01T00:00:00.001Z"]),
        vector("numbers: an unparsable value matches nothing", Identity, numeric.clone(), yes())
            .with("aws:MultiFactorAuthAge", &["abc"]),
        vector("numbers compare as numbers", Identity, numeric, no())
            .with("aws:MultiFactorAuthAge", &["7.0"]),
        vector("IP: an IPv4 address is not in ::/0", Identity, ip.clone(), no())
            .with("aws:SourceIp", &["11.0.0.1"]),
        vector("IP: IPv6 in ::/0", Identity, ip.clone(), yes()).with("aws:SourceIp", &["2001:db8::1"]),
        vector("IP: IPv4 in its network", Identity, ip, yes())
            .with("aws:SourceIp", &["10.255.255.255"]),
        vector("ARNs: a lone * has too few parts to match", Identity, arn_star, no())
            .with("aws:SourceArn", &[bob_arn]),
        vector("ARNs: the resource part keeps its colons", Identity, arn_colons.clone(), yes())
            .with("aws:SourceArn", &["arn:aws:kms:us-west-2:444455556666:key/a:b"]),
        vector("ARNs: five parts match nothing", Identity, arn_colons, no())
            .with("aws:SourceArn", &["arn:aws:iam::111122223333"]),
        vector("ARNs: a variable is substituted before splitting", Identity, arn_var, yes())
            .with("aws:SourceArn", &[bob_arn]).with("aws:PrincipalArn", &[bob_arn]),
        vector("IgnoreCase lower-cases beyond ASCII", Identity,
            allow_if(json!({"StringEqualsIgnoreCase": {"kms:EncryptionContext:purpose": "ÉTÉ"}})),
            yes()).with("kms:EncryptionContext:purpose", &["été"]),
        vector("condition key names ignore case", Identity,
            allow_if(json!({"StringEquals": {"AWS:UserName": "bob"}})), yes())
            .with("aws:username", &["bob"]),
        vector("Bool ignores ASCII case", Identity,
            allow_if(json!({"Bool": {"aws:SecureTransport": "TRUE"}})), yes())
            .with("aws:SecureTransport", &["true"]),
        vector("Bool matches only true/false spellings", Identity,
            allow_if(json!({"Bool": {"aws:SecureTransport": "TRUE"}})), no())
            .with("aws:SecureTransport", &["yes"]),
        vector("an empty Condition holds", Identity, allow_if(json!({})), yes()),
        // Malformed documents.
        vector("a key policy statement needs a principal", Key,
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}), None),
        vector("an identity policy names no principal", Identity,
            json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}),
            None),
        vector("Null takes no IfExists", Identity, bad(json!({"NullIfExists": {"k": "true"}})), None),
        vector("Null takes no set operator", Identity,
            bad(json!({"ForAnyValue:Null": {"k": "true"}})), None),
        vector("operator names are case-sensitive", Identity,
            bad(json!({"stringequals": {"k": "v"}})), None),
        vector("numeric values must parse", Identity,
            bad(json!({"NumericEquals": {"k": "abc"}})), None),
        vector("Bool values are true or false", Identity, bad(json!({"Bool": {"k": "yes"}})), None),
        vector("an empty value list", Identity, bad(json!({"StringEquals": {"k": []}})), None),
        vector("a prefix longer than the address", Identity,
            bad(json!({"IpAddress": {"k": "10.0.0.0/33"}})), None),
        vector("Action and NotAction together", Identity,
            json!({"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "kms:Encrypt",
                "Resource": "*"}}), None),
        vector("an AWS principal that is no account or ARN", Key,
            json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "*",
                "Resource": "*"}}), None),
        vector("an empty Statement array", Key, json!({"Statement": []}), None),
        vector("an unknown Version", Identity,
            json!({"Version": "2012-10-18", "Statement": {"Effect": "Allow", "Action": "*",
                "Resource": "*"}}), None),
        vector("an unknown top-level key", Identity,
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}, "Foo": 1}),
            None),
    ]
}

/// Runs every vector through `eval` (`Err` for a malformed document) and
/// lists the ones whose answers differ from the hand-written ones.
fn run_vectors(eval: &dyn Fn(&Vector) -> Result<Decision, String>) {
    let mut wrong = Vec::new();
    let all = vectors();
    for v in &all {
        let got = eval(v);
        let ok = match (&v.expect, &got) {
            (None, Err(_)) => true,
            (Some(want), Ok(got)) => want == got,
            _ => false,
        };
        if !ok {
            wrong.push(format!(
                "{}\n  policy: {}\n  expected {:?}, got {got:?}",
                v.name, v.policy, v.expect
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} vectors wrong:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );
}

fn owned_context(v: &Vector) -> Vec<(String, Vec<String>)> {
    v.context
        .iter()
        .map(|(k, vs)| {
            (
                (*k).to_owned(),
                vs.iter().map(|s| (*s).to_owned()).collect(),
            )
        })
        .collect()
}

#[test]
fn reference_vectors() {
    run_vectors(&|v| {
        let doc = check(&v.policy.to_string(), v.kind)?;
        let caller = view(&v.caller);
        let context = owned_context(v);
        let req = Req {
            caller: &caller,
            action: v.action,
            resource: v.resource,
            context: &context,
        };
        Ok(evaluate(&doc, &req, v.kind, &mut Stats::default()))
    });
}

#[test]
fn engine_vectors() {
    run_vectors(&|v| {
        let policy =
            Policy::parse(&v.policy.to_string(), engine_kind(v.kind)).map_err(|e| e.to_string())?;
        let caller = engine_caller(&CallerDef {
            caller: view(&v.caller),
            build: v.caller.clone(),
        });
        let cx = engine_context(&owned_context(v));
        Ok(from_engine(&policy.evaluate(&Request {
            caller: &caller,
            action: v.action,
            resource: v.resource,
            context: &cx,
        })))
    });
}

// ---------------------------------------------------------------------------
// The reference's footing

/// The pool's callers are the crate's principals: same ARN, and (but for the
/// session whose role has a path, which `Caller::new` cannot know) the same
/// `match_arns` as `Caller::new` gives.
#[test]
fn caller_pool_matches_crate_principals() {
    for def in callers() {
        let p = principal(&def.build);
        let crate_caller = EngineCaller::new(p.clone());
        match &def.build {
            Build::Service(name) => {
                assert_eq!(p.arn(), *name);
                assert!(crate_caller.match_arns.is_empty());
            }
            Build::Assumed(_, _, _, path) if *path != "/" => {
                assert_eq!(crate_caller.match_arns[0], def.caller.match_arns[0]);
            }
            _ => {
                assert_eq!(
                    crate_caller.match_arns, def.caller.match_arns,
                    "{:?}",
                    def.build
                );
                assert_eq!(
                    p.account().map(|a| a.as_str().to_owned()),
                    def.caller.account
                );
                assert_eq!(p.is_root(), matches!(def.build, Build::Root(_)));
            }
        }
    }
}

/// The reference's date reading against known instants.
#[test]
fn reference_dates() {
    let jan1 = Some(1_577_836_800_000);
    assert_eq!(epoch_ms("2020-01-01"), jan1);
    assert_eq!(epoch_ms("1577836800"), jan1);
    assert_eq!(epoch_ms("2020-01-01T00:00:00Z"), jan1);
    assert_eq!(epoch_ms("2019-12-31T19:00:00-05:00"), jan1);
    assert_eq!(
        epoch_ms("2020-01-01T00:00:00.123456789Z"),
        Some(1_577_836_800_123)
    );
    assert_eq!(epoch_ms("1970-01-01T00:00:01.5Z"), Some(1_500));
    assert_eq!(epoch_ms("1969-12-31"), Some(-86_400_000));
    assert_eq!(epoch_ms("2000-03-01"), Some(951_868_800_000));
    assert_eq!(epoch_ms("2020"), Some(2_020_000));
    for bad in [
        "2020-02-30",
        "2020-01-01T24:00:00Z",
        "2020-01-01T00:00:00",
        "x",
        "",
        "2020-01-01T00:00:00.Z",
    ] {
        assert_eq!(epoch_ms(bad), None, "{bad}");
    }
}
