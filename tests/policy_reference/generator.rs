//! Random cases for the differential test: policies over small alphabets
//! (three accounts, a few users, roles, sessions and services, a short list
//! of actions and resources, every condition operator over keys whose
//! values come from small pools) so that statements and conditions match
//! often, requests over the same alphabets, and a share of malformed
//! documents.
//!
//! Everything here is `proptest` strategies, so that a failure shrinks.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::{BASES, Caller, Family, Kind, Who};

/// The accounts.
pub const ACCOUNTS: &[&str] = &["111122223333", "444455556666", "777788889999"];

/// The key most requests are about.
pub const KEY_ARN: &str =
    "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// How to build a caller as the crate's `Principal`.
#[derive(Clone, Debug)]
pub enum Build {
    /// `Principal::root(account)`.
    Root(&'static str),
    /// `Principal::user(account, name).with_path(path)`.
    User(&'static str, &'static str, &'static str),
    /// `Principal::role(account, name)` (path `/`).
    Role(&'static str, &'static str),
    /// `Principal::assumed_role(account, role, session)`; the last field is
    /// the role's path, which decides the role ARN it matches by.
    Assumed(&'static str, &'static str, &'static str, &'static str),
    /// `Principal::service(name)`.
    Service(&'static str),
}

/// A caller of the pool: how to build it, and how the reference sees it.
#[derive(Clone, Debug)]
pub struct CallerDef {
    /// The constructor.
    pub build: Build,
    /// The reference's view (its `match_arns` are also given to the engine).
    pub caller: Caller,
}

/// The callers requests are made by.
pub fn callers() -> Vec<CallerDef> {
    let builds = [
        Build::Root("111122223333"),
        Build::Root("444455556666"),
        Build::Root("777788889999"),
        Build::User("111122223333", "/", "bob"),
        Build::User("111122223333", "/team/", "bob"),
        Build::User("444455556666", "/", "alice"),
        Build::Role("111122223333", "ExampleRole"),
        Build::Assumed("111122223333", "ExampleRole", "s1", "/"),
        Build::Assumed("111122223333", "ExampleRole", "s1", "/team/"),
        Build::User("777788889999", "/", "bob"),
        Build::Service("dynamodb.amazonaws.com"),
        Build::Service("s3.amazonaws.com"),
    ];
    builds
        .into_iter()
        .map(|build| CallerDef {
            caller: view(&build),
            build,
        })
        .collect()
}

/// The reference's view of a caller.
pub fn view(build: &Build) -> Caller {
    let aws = |who: Who, account: &str, arns: Vec<String>| Caller {
        who,
        partition: "aws".to_owned(),
        account: Some(account.to_owned()),
        match_arns: arns,
    };
    match *build {
        Build::Root(a) => aws(Who::Root, a, vec![format!("arn:aws:iam::{a}:root")]),
        Build::User(a, path, name) => aws(
            Who::User,
            a,
            vec![format!("arn:aws:iam::{a}:user{path}{name}")],
        ),
        Build::Role(a, name) => aws(Who::Role, a, vec![format!("arn:aws:iam::{a}:role/{name}")]),
        Build::Assumed(a, role, session, path) => aws(
            Who::AssumedRole,
            a,
            vec![
                format!("arn:aws:sts::{a}:assumed-role/{role}/{session}"),
                format!("arn:aws:iam::{a}:role{path}{role}"),
            ],
        ),
        Build::Service(name) => Caller {
            who: Who::Service(name.to_owned()),
            partition: "aws".to_owned(),
            account: None,
            match_arns: Vec::new(),
        },
    }
}

const ACTIONS: &[&str] = &[
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
    "kms:PutKeyPolicy",
    "kms:CreateGrant",
    "kms:ScheduleKeyDeletion",
];

const ACTION_PATTERNS: &[&str] = &[
    "kms:*",
    "kms:Re*",
    "kms:?ncrypt",
    "*",
    "kms:Encrypt",
    "KMS:ENCRYPT",
    "kms:GenerateDataKey*",
    "kms:Describe?ey",
    "s3:*",
    "kms:*Key*",
    "kms:ReEncrypt?o",
    "kms:Decrypt",
];

const RESOURCES: &[&str] = &[
    KEY_ARN,
    KEY_ARN,
    "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321",
    "arn:aws:kms:us-west-2:444455556666:key/*",
    "arn:aws:kms:us-west-2:444455556666:alias/bob",
    "arn:aws:kms:us-west-2:444455556666:alias/${aws:username}",
    "arn:aws:kms:us-west-2:444455556666:alias/$x",
    "arn:aws-cn:kms:cn-north-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab",
];

const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    KEY_ARN,
    "arn:aws:kms:*:444455556666:key/*",
    "arn:aws:kms:us-west-2:*:key/1234abcd-*",
    "arn:aws:kms:us-west-2:${kms:CallerAccount}:key/*",
    "arn:aws:kms:us-west-2:444455556666:key/${*}",
    "arn:aws:kms:us-west-2:444455556666:alias/${aws:username}",
    "arn:aws:kms:us-west-2:444455556666:alias/${aws:username, 'bob'}",
    "arn:aws:kms:us-west-2:444455556666:alias/${$}x",
    "arn:aws:kms:us-west-2:444455556666:alias/$x",
    "arn:aws:kms:us-west-2:444455556666:key/????????-*",
    "ARN:aws:kms:*",
    "arn:aws:kms:us-west-2:444455556666:alias/${AWS:UserName}",
    "arn:aws:kms:us-west-2:444455556666:alias/${aws:TagKeys}",
    "arn:*:kms:*:*:*",
    "arn:aws:kms:us-west-2:444455556666:alias/b?b",
    "arn:aws:kms:us-west-2:444455556666:alias/${nope:key}",
];

const AWS_ENTRIES: &[&str] = &[
    "*",
    "111122223333",
    "111122223333",
    "arn:aws:iam::111122223333:root",
    "444455556666",
    "777788889999",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::444455556666:root",
    "arn:aws:iam::111122223333:user/bob",
    "arn:aws:iam::111122223333:user/team/bob",
    "arn:aws:iam::111122223333:role/ExampleRole",
    "arn:aws:iam::111122223333:role/team/ExampleRole",
    "arn:aws:sts::111122223333:assumed-role/ExampleRole/s1",
    "arn:aws:iam::444455556666:user/alice",
    "arn:aws-cn:iam::111122223333:user/bob",
    "arn:aws:iam::777788889999:user/bob",
];

const SERVICES: &[&str] = &[
    "dynamodb.amazonaws.com",
    "DynamoDB.AmazonAWS.com",
    "s3.amazonaws.com",
];

/// The value type of a condition key, which decides its context pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    /// A string that policy variables read: no wildcards in its values.
    VarStr,
    Str,
    Num,
    Date,
    Ip,
    Arn,
    Bool,
    Binary,
}

const KEYS: &[(&str, Ty)] = &[
    ("aws:username", Ty::VarStr),
    ("kms:CallerAccount", Ty::VarStr),
    ("aws:TagKeys", Ty::VarStr),
    ("kms:EncryptionContext:purpose", Ty::Str),
    ("kms:ViaService", Ty::Str),
    ("kms:ScheduleKeyDeletionPendingWindowInDays", Ty::Num),
    ("aws:MultiFactorAuthAge", Ty::Num),
    ("aws:CurrentTime", Ty::Date),
    ("aws:SourceIp", Ty::Ip),
    ("aws:PrincipalArn", Ty::Arn),
    ("aws:SourceArn", Ty::Arn),
    ("aws:SecureTransport", Ty::Bool),
    ("kms:GrantIsForAWSResource", Ty::Bool),
    ("test:Blob", Ty::Binary),
];

/// Context values by key.
fn context_pool(key: &str) -> &'static [&'static str] {
    match key {
        "aws:username" => &["bob", "alice", "Bob", "ExampleRole", ""],
        "kms:CallerAccount" => ACCOUNTS,
        "aws:TagKeys" => &["Env", "env", "Owner", "Project"],
        "kms:EncryptionContext:purpose" => &[
            "test", "Test", "prod", "b*", "Été", "été", "t?st", "bob", "",
        ],
        "kms:ViaService" => &[
            "dynamodb.us-west-2.amazonaws.com",
            "s3.us-west-2.amazonaws.com",
        ],
        "aws:CurrentTime" => &[
            "2020-01-01T00:00:00Z",
            "1577836800",
            "2020-01-01",
            "2019-12-31T23:59:59.999Z",
            "2020-01-01T01:00:00+01:00",
            "2020-01-01T00:00:00.0005Z",
            "2021-06-15T12:30:00-05:30",
            "yesterday",
            "1577836801",
            "2020",
        ],
        "aws:SourceIp" => &[
            "10.1.2.3",
            "10.255.255.255",
            "11.0.0.1",
            "192.0.2.7",
            "2001:db8::1",
            "2001:db9::1",
            "::1",
            "not-an-ip",
        ],
        "aws:PrincipalArn" | "aws:SourceArn" => &[
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::111122223333:role/ExampleRole",
            "arn:aws:sts::111122223333:assumed-role/ExampleRole/s1",
            "arn:aws:iam::444455556666:root",
            "arn:aws:kms:us-west-2:444455556666:key/a:b",
            "bob",
            "arn:aws:iam::111122223333",
        ],
        "aws:SecureTransport" | "kms:GrantIsForAWSResource" => {
            &["true", "false", "True", "FALSE", "yes"]
        }
        "test:Blob" => &["QUJD", "YWJj", "QUJDRA==", ""],
        // The numeric keys.
        _ => &["7", "30", "7.0", "15.5", "-1", "abc", "1e1", "0"],
    }
}

/// Values of other types, given to any key now and then (none holds a
/// wildcard, so that variables stay wildcard-free).
const OFF_POOL: &[&str] = &[
    "7",
    "2020-01-01",
    "10.1.2.3",
    "true",
    "arn:aws:iam::111122223333:user/bob",
    "QUJD",
    "bob",
];

/// Policy values by operator family.
fn policy_pool(family: Family) -> Vec<Value> {
    let strs = |l: &[&str]| l.iter().map(|s| json!(s)).collect::<Vec<_>>();
    match family {
        Family::Str(_) => strs(&[
            "bob",
            "alice",
            "Bob",
            "ExampleRole",
            "111122223333",
            "444455556666",
            "Env",
            "env",
            "test",
            "Test",
            "ÉTÉ",
            "t?st",
            "b*",
            "*",
            "?ob",
            "dynamodb.*",
            "${aws:username}",
            "${aws:username, 'bob'}",
            "${*}",
            "${kms:CallerAccount}",
            "${aws:TagKeys}",
            "${nope:key}",
            "${AWS:USERNAME}",
            "pre-${aws:username}",
            "${?}ob",
            "",
        ]),
        Family::Num(_) => {
            let mut v = strs(&["7", "30", "15.5", "-1", "0", "1e1"]);
            v.extend([json!(7), json!(30), json!(15.5), json!(-1)]);
            v
        }
        Family::Date(_) => {
            let mut v = strs(&[
                "2020-01-01T00:00:00Z",
                "1577836800",
                "2020-01-01",
                "2019-12-31T23:59:59.999Z",
                "2020-01-01T01:00:00+01:00",
                "2020-01-01T00:00:00.000999999Z",
                "2021-06-15T18:00:00Z",
                "2020",
            ]);
            v.push(json!(1_577_836_800));
            v
        }
        Family::Bool | Family::Null => {
            let mut v = strs(&["true", "false", "TRUE", "False"]);
            v.extend([json!(true), json!(false)]);
            v
        }
        Family::Binary => strs(&["QUJD", "YWJj", "QUJDRA=="]),
        Family::Ip => strs(&[
            "10.0.0.0/8",
            "10.1.2.3",
            "11.0.0.0/8",
            "192.0.2.0/24",
            "0.0.0.0/0",
            "2001:db8::/32",
            "::1",
            "::/0",
            "10.1.2.3/32",
        ]),
        Family::Arn => strs(&[
            "arn:aws:iam::111122223333:user/*",
            "arn:aws:iam::111122223333:*",
            "arn:aws:iam::*:role/ExampleRole",
            "arn:aws:sts::111122223333:assumed-role/ExampleRole/*",
            "arn:aws:iam::444455556666:root",
            "*",
            "arn:*:*:*:*:*",
            "arn:aws:kms:us-west-2:444455556666:key/a:*",
            "arn:aws:iam::111122223333:user/bob",
            "arn:aws:iam::111122223333:USER/bob",
            "arn:aws:iam::${kms:CallerAccount}:user/${aws:username}",
            "${aws:PrincipalArn}",
            "arn:aws:iam::111122223333:user/${*}",
        ]),
    }
}

/// The context keys an operator family is mostly used with.
fn keys_for(family: Family) -> Vec<&'static str> {
    let want: &[Ty] = match family {
        Family::Str(_) => &[Ty::VarStr, Ty::Str],
        Family::Num(_) => &[Ty::Num],
        Family::Date(_) => &[Ty::Date],
        Family::Bool => &[Ty::Bool],
        Family::Binary => &[Ty::Binary],
        Family::Ip => &[Ty::Ip],
        Family::Arn => &[Ty::Arn],
        Family::Null => &[Ty::VarStr, Ty::Str, Ty::Bool, Ty::Num],
    };
    KEYS.iter()
        .filter(|(_, t)| want.contains(t))
        .map(|(k, _)| *k)
        .collect()
}

fn pick(pool: &'static [&'static str]) -> BoxedStrategy<String> {
    select(pool).prop_map(str::to_owned).boxed()
}

/// One value, or an array of 1..=max (a one-element array sometimes).
fn one_or_many(item: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    (any::<bool>(), prop::collection::vec(item, 1..=max))
        .prop_map(|(array, mut v)| {
            if v.len() == 1 && !array {
                v.remove(0)
            } else {
                Value::Array(v)
            }
        })
        .boxed()
}

fn strings_of(pool: &'static [&'static str], max: usize) -> BoxedStrategy<Value> {
    one_or_many(pick(pool).prop_map(Value::String).boxed(), max)
}

/// A key name in its own spelling or upper-cased (names compare ignoring
/// case).
fn spelled(key: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (key, prop::bool::weighted(0.2))
        .prop_map(|(k, upper)| if upper { k.to_ascii_uppercase() } else { k })
        .boxed()
}

fn principal_object() -> BoxedStrategy<Value> {
    let aws = || strings_of(AWS_ENTRIES, 3);
    let svc = || strings_of(SERVICES, 2);
    prop_oneof![
        6 => aws().prop_map(|a| json!({ "AWS": a })),
        2 => svc().prop_map(|s| json!({ "Service": s })),
        1 => (aws(), svc()).prop_map(|(a, s)| json!({ "AWS": a, "Service": s })),
    ]
    .boxed()
}

/// A statement's principal element, as (name, value).
fn principal(kind: Kind) -> BoxedStrategy<Option<(&'static str, Value)>> {
    match kind {
        Kind::Identity => Just(None).boxed(),
        Kind::Key => prop_oneof![
            2 => Just(Some(("Principal", json!("*")))),
            7 => principal_object().prop_map(|p| Some(("Principal", p))),
            2 => principal_object().prop_map(|p| Some(("NotPrincipal", p))),
            1 => Just(Some(("NotPrincipal", json!("*")))),
        ]
        .boxed(),
    }
}

/// `Action`/`NotAction` (or `Resource`/`NotResource`), sometimes missing.
fn element(
    name: &'static str,
    not_name: &'static str,
    pool: &'static [&'static str],
) -> BoxedStrategy<Option<(&'static str, Value)>> {
    prop_oneof![
        14 => strings_of(pool, 3).prop_map(move |v| Some((name, v))),
        4 => strings_of(pool, 2).prop_map(move |v| Some((not_name, v))),
        1 => Just(None),
    ]
    .boxed()
}

/// One operator block: (operator name, key → values).
fn operator_block() -> BoxedStrategy<(String, Map<String, Value>)> {
    let qualifier =
        prop_oneof![6 => Just(""), 2 => Just("ForAnyValue:"), 2 => Just("ForAllValues:")];
    (0..BASES.len(), qualifier, prop::bool::weighted(0.3))
        .prop_flat_map(|(i, q, if_exists)| {
            let (base, family, _) = BASES[i];
            let name = if family == Family::Null {
                base.to_owned()
            } else {
                format!("{q}{base}{}", if if_exists { "IfExists" } else { "" })
            };
            let key = prop_oneof![
                7 => select(keys_for(family)).prop_map(str::to_owned),
                3 => select(KEYS).prop_map(|(k, _)| k.to_owned()),
            ]
            .boxed();
            let value = select(policy_pool(family)).boxed();
            let values = if family == Family::Null {
                value
            } else {
                one_or_many(value, 3)
            };
            prop::collection::vec((spelled(key), values), 1..=2)
                .prop_map(move |entries| (name.clone(), entries.into_iter().collect::<Map<_, _>>()))
        })
        .boxed()
}

fn condition() -> BoxedStrategy<Value> {
    prop::collection::vec(operator_block(), 0..=3)
        .prop_map(|blocks| {
            Value::Object(
                blocks
                    .into_iter()
                    .map(|(n, b)| (n, Value::Object(b)))
                    .collect(),
            )
        })
        .boxed()
}

fn statement(kind: Kind) -> BoxedStrategy<Map<String, Value>> {
    (
        prop::bool::weighted(0.6),
        prop_oneof![3 => Just("Allow"), 2 => Just("Deny")],
        principal(kind),
        element("Action", "NotAction", ACTION_PATTERNS),
        element("Resource", "NotResource", RESOURCE_PATTERNS),
        prop::option::weighted(0.6, condition()),
    )
        .prop_map(|(sid, effect, principal, action, resource, condition)| {
            let mut st = Map::new();
            if sid {
                // Numbered when the document is assembled, so Sids are unique.
                st.insert("Sid".into(), json!(""));
            }
            st.insert("Effect".into(), json!(effect));
            for (k, v) in [principal, action, resource].into_iter().flatten() {
                st.insert(k.into(), v);
            }
            if let Some(c) = condition {
                st.insert("Condition".into(), c);
            }
            st
        })
        .boxed()
}

/// A well-formed document of `kind`.
fn document(kind: Kind) -> BoxedStrategy<Value> {
    (
        prop_oneof![3 => Just("2012-10-17"), 1 => Just("2008-10-17")],
        prop::bool::weighted(0.2),
        prop::collection::vec(statement(kind), 1..=4),
        any::<bool>(),
    )
        .prop_map(|(version, id, statements, single_as_object)| {
            let mut doc = Map::new();
            doc.insert("Version".into(), json!(version));
            if id {
                doc.insert("Id".into(), json!("key-policy-1"));
            }
            let mut statements: Vec<Value> = statements
                .into_iter()
                .enumerate()
                .map(|(i, mut st)| {
                    if st.contains_key("Sid") {
                        st.insert("Sid".into(), json!(format!("S{i}")));
                    }
                    Value::Object(st)
                })
                .collect();
            let statement = if statements.len() == 1 && single_as_object {
                statements.remove(0)
            } else {
                Value::Array(statements)
            };
            doc.insert("Statement".into(), statement);
            Value::Object(doc)
        })
        .boxed()
}

/// The ways a document is spoiled (some leave it well formed: the
/// reference decides).
const MUTATIONS: usize = 22;

fn first_statement(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    match doc.get_mut("Statement")? {
        Value::Array(a) => a.first_mut()?.as_object_mut(),
        Value::Object(o) => Some(o),
        _ => None,
    }
}

/// The text of `doc` after mutation `m` (`param` picks among variants).
fn mutate(mut doc: Value, m: usize, param: usize) -> String {
    const BAD_OPERATORS: &[&str] = &[
        "StringEqualz",
        "stringequals",
        "NullIfExists",
        "ForAnyValue:Null",
        "ForAllValues:Null",
        "ForSomeValues:StringEquals",
        "StringEqualsIfExistsIfExists",
        "IfExists",
    ];
    const BAD_AWS: &[&str] = &[
        "bob",
        "11112222333",
        "arn:aws:iam::111122223333:group/devs",
        "arn:aws:s3:::bucket",
        "arn:aws:iam::12345:root",
        "",
    ];
    let bad_values = [
        ("NumericEquals", json!("abc")),
        ("DateEquals", json!("yesterday")),
        ("IpAddress", json!("10.0.0.0/33")),
        ("IpAddress", json!("not-an-ip")),
        ("Bool", json!("yes")),
        ("Null", json!("maybe")),
        ("StringEquals", json!([])),
        ("StringEquals", Value::Null),
        ("StringEquals", json!({ "a": "b" })),
        ("StringEquals", json!(["a", null])),
        ("NumericLessThan", json!("${aws:username}")),
    ];
    let text = |d: &Value| d.to_string();
    let Some(top) = doc.as_object_mut() else {
        return text(&doc);
    };
    match m {
        0 => {
            top.insert("Foo".into(), json!("bar"));
        }
        1 => {
            top.insert("Version".into(), json!("2010-01-01"));
        }
        2 => {
            top.insert("Statement".into(), json!([]));
        }
        3 => {
            top.insert("Statement".into(), json!(["x"]));
        }
        4 => {
            top.remove("Statement");
        }
        5 => return format!("[{}]", text(&doc)),
        6 => {
            let t = text(&doc);
            return t.chars().take(t.chars().count() / 2).collect();
        }
        7 => {
            top.insert("Id".into(), json!(7));
        }
        _ => {
            let Some(st) = first_statement(&mut doc) else {
                return text(&doc);
            };
            match m {
                8 => {
                    st.remove("Effect");
                }
                9 => {
                    st.insert("Effect".into(), json!(["Permit", "allow"][param % 2]));
                }
                10 => {
                    st.insert("Foo".into(), json!("bar"));
                }
                11 => {
                    st.insert("NotAction".into(), json!("kms:Encrypt"));
                    st.insert("Action".into(), json!("kms:Decrypt"));
                }
                12 => {
                    if st.remove("Principal").is_none() && st.remove("NotPrincipal").is_none() {
                        st.insert("Principal".into(), json!("*"));
                    }
                }
                13 => {
                    let bad = BAD_AWS[param % BAD_AWS.len()];
                    st.insert("Principal".into(), json!({ "AWS": ["111122223333", bad] }));
                }
                14 => {
                    let bad = BAD_OPERATORS[param % BAD_OPERATORS.len()];
                    let c = st.entry("Condition").or_insert_with(|| json!({}));
                    if let Some(c) = c.as_object_mut() {
                        c.insert(bad.into(), json!({ "aws:username": "bob" }));
                    }
                }
                15 => {
                    let (op, v) = bad_values[param % bad_values.len()].clone();
                    let c = st.entry("Condition").or_insert_with(|| json!({}));
                    if let Some(c) = c.as_object_mut() {
                        c.insert(op.into(), json!({ "aws:username": v }));
                    }
                }
                16 => {
                    st.insert("Sid".into(), json!(5));
                }
                17 => {
                    st.insert("Action".into(), json!(5));
                    st.remove("NotAction");
                }
                18 => {
                    st.insert("Condition".into(), json!([]));
                }
                19 => {
                    let p = [
                        json!("111122223333"),
                        json!({ "AWS": [] }),
                        json!({ "Federated": "cognito-identity.amazonaws.com" }),
                        json!({ "Service": "" }),
                        json!({ "Service": [] }),
                        json!(["*"]),
                    ];
                    st.remove("NotPrincipal");
                    st.insert("Principal".into(), p[param % p.len()].clone());
                }
                20 => {
                    st.insert("Condition".into(), json!({ "StringEquals": "bob" }));
                }
                _ => {
                    st.insert("Resource".into(), json!({ "arn": KEY_ARN }));
                    st.remove("NotResource");
                }
            }
        }
    }
    text(&doc)
}

/// One request: caller (index into [`callers`]), action, resource and
/// condition keys.
#[derive(Clone, Debug)]
pub struct GenRequest {
    /// Index into [`callers`].
    pub caller: usize,
    /// The action.
    pub action: String,
    /// The resource.
    pub resource: String,
    /// The condition keys (names unique ignoring case).
    pub context: Vec<(String, Vec<String>)>,
}

/// `n` requests drawn from `seed` (a plain seeded generator: requests are
/// cheap to draw this way, and a failure names the request that fails).
pub fn requests(seed: u64, n: usize) -> Vec<GenRequest> {
    let mut rng = SplitMix(seed);
    let n_callers = callers().len();
    (0..n)
        .map(|_| GenRequest {
            caller: rng.below(n_callers),
            action: one(&mut rng, ACTIONS).to_owned(),
            resource: one(&mut rng, RESOURCES).to_owned(),
            context: context(&mut rng),
        })
        .collect()
}

/// SplitMix64: a small, fast, seeded generator (ChaCha is slow in debug
/// builds, and the requests need no cryptographic quality).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`; the bias is negligible for small `n`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

fn one<'a>(rng: &mut SplitMix, pool: &[&'a str]) -> &'a str {
    pool[rng.below(pool.len())]
}

fn context(rng: &mut SplitMix) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for &(key, _) in KEYS {
        let count = match rng.below(100) {
            0..35 => continue,
            35..80 => 1,
            _ => rng.below(4),
        };
        let values = (0..count)
            .map(|_| {
                if rng.percent(85) {
                    one(rng, context_pool(key)).to_owned()
                } else {
                    one(rng, OFF_POOL).to_owned()
                }
            })
            .collect();
        let name = if rng.percent(20) {
            key.to_ascii_uppercase()
        } else {
            key.to_owned()
        };
        out.push((name, values));
    }
    out
}

/// One case: a document (as text, perhaps malformed) of `kind` and the
/// requests to ask it.
#[derive(Clone)]
pub struct Case {
    /// What the document is checked as.
    pub kind: Kind,
    /// The document.
    pub text: String,
    /// The requests.
    pub requests: Vec<GenRequest>,
}

impl std::fmt::Debug for Case {
    // Short: a failure message already shows the document and the request
    // that fails.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Case {{ kind: {:?}, text: {}, requests: {} }}",
            self.kind,
            self.text,
            self.requests.len()
        )
    }
}

/// Cases with `requests` requests each; about one in eight documents is
/// mutated (most of those become malformed).
pub fn case(n_requests: usize) -> BoxedStrategy<Case> {
    prop_oneof![3 => Just(Kind::Key), 2 => Just(Kind::Identity)]
        .prop_flat_map(move |kind| {
            (
                Just(kind),
                document(kind),
                prop::option::weighted(0.12, (0..MUTATIONS, 0..64usize)),
                any::<u64>(),
            )
        })
        .prop_map(move |(kind, doc, mutation, seed)| Case {
            kind,
            text: match mutation {
                Some((m, param)) => mutate(doc, m, param),
                None => doc.to_string(),
            },
            requests: requests(seed, n_requests),
        })
        .boxed()
}
