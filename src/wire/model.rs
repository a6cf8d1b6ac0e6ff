//! The operation names of the AWS API models (botocore `kms/2014-11-01` and
//! `cloudhsmv2/2017-04-28`), routed or not, and the status of each KMS
//! operation (README's operations table is generated from it, and a test keeps the
//! two equal). A name here that the dispatcher does not route is refused as
//! AWS refuses an operation it does not support ([`not_implemented`]: HTTP
//! 400, never 501); a name not here is `UnknownOperationException`.

use crate::error::{Error, kms_err};

use super::Service;

/// The refusal of `operation`, of `service`'s API model, which this crate
/// does not implement: `UnsupportedOperationException` (HTTP 400) naming it,
/// the exception KMS answers for an operation it does not support; for
/// cloudhsmv2, whose model has no such exception,
/// `CloudHsmInvalidRequestException`.
pub(crate) fn not_implemented(service: Service, operation: &str) -> Error {
    match service {
        Service::Kms => kms_err!(
            UnsupportedOperation,
            "{operation} is not supported by this KMS."
        ),
        Service::CloudHsmV2 => kms_err!(
            CloudHsmInvalidRequest,
            "{operation} is not supported by this CloudHSM."
        ),
    }
}

/// How this crate answers a KMS operation.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Implemented.
    Implemented,
    /// Every answer is the one AWS gives for the keys this crate holds.
    #[allow(
        dead_code,
        reason = "no operation has this status yet; operations that need key types this crate lacks will"
    )]
    RefusedAsAws,
    /// Not implemented: refused with `UnsupportedOperationException`.
    NotImplemented,
}

#[cfg(test)]
impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Implemented => "implemented",
            Status::RefusedAsAws => "refused as AWS refuses",
            Status::NotImplemented => "not implemented",
        }
    }
}

/// The routed KMS operations that are not simply implemented: their status
/// and what they answer. Every other routed operation is implemented, and
/// every operation of the model that is not routed is not implemented.
#[cfg(test)]
const KMS_EXCEPTIONS: &[(&str, Status, &str)] = &[
    ("DeriveSharedSecret", Status::Implemented, ASYMMETRIC),
    ("GenerateDataKeyPair", Status::Implemented, DATA_KEY_PAIR),
    (
        "GenerateDataKeyPairWithoutPlaintext",
        Status::Implemented,
        DATA_KEY_PAIR,
    ),
    ("GetPublicKey", Status::Implemented, ASYMMETRIC),
    ("Sign", Status::Implemented, ASYMMETRIC),
    ("Verify", Status::Implemented, ASYMMETRIC),
];

/// The note of the asymmetric-key operations.
#[cfg(test)]
const ASYMMETRIC: &str =
    "RSA, ECC and ML-DSA keys, with the cargo feature `asymmetric` (the server enables it)";

/// The note of the data key pair operations.
#[cfg(test)]
const DATA_KEY_PAIR: &str = "with the cargo feature `asymmetric` (the server enables it); without it, and for keys in custom key stores (as AWS), `UnsupportedOperationException`";

/// The status of KMS operation `op` (of [`KMS_OPERATIONS`]) and a note.
#[cfg(test)]
fn kms_status(op: &str) -> (Status, &'static str) {
    if let Some((_, status, note)) = KMS_EXCEPTIONS.iter().find(|(name, ..)| *name == op) {
        return (*status, note);
    }
    if Service::Kms.routed_operations().any(|r| r == op) {
        (Status::Implemented, "")
    } else {
        (
            Status::NotImplemented,
            "`UnsupportedOperationException` (HTTP 400) naming the operation",
        )
    }
}

/// README's operations table: every KMS operation of the API model with
/// its status, between the two markers below.
#[cfg(test)]
fn operations_table() -> String {
    let mut out = String::from("| operation | status | notes |\n|---|---|---|\n");
    for op in KMS_OPERATIONS {
        let (status, note) = kms_status(op);
        out.push_str(&format!("| {op} | {} | {note} |\n", status.as_str()));
    }
    out
}

/// Where README's operations table begins and ends.
#[cfg(test)]
const TABLE_MARKERS: (&str, &str) = ("<!-- operations:begin -->\n", "<!-- operations:end -->");

/// AWS KMS operations, in name order.
pub(crate) const KMS_OPERATIONS: &[&str] = &[
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "Decapsulate",
    "Decrypt",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "Encapsulate",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncrypt",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
];

/// AWS CloudHSM v2 operations, in name order.
pub(crate) const CLOUDHSMV2_OPERATIONS: &[&str] = &[
    "CopyBackupToRegion",
    "CreateCluster",
    "CreateHsm",
    "DeleteBackup",
    "DeleteCluster",
    "DeleteHsm",
    "DeleteResourcePolicy",
    "DescribeBackups",
    "DescribeClusters",
    "GetResourcePolicy",
    "InitializeCluster",
    "ListTags",
    "ModifyBackupAttributes",
    "ModifyCluster",
    "PutResourcePolicy",
    "RestoreBackup",
    "TagResource",
    "UntagResource",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The operations of botocore's KMS model, if python3 and botocore are
    /// installed.
    fn botocore_kms_operations() -> Option<Vec<String>> {
        let script = "import botocore,os,gzip,json\n\
            d=os.path.join(os.path.dirname(botocore.__file__),'data','kms','2014-11-01')\n\
            p=os.path.join(d,'service-2.json')\n\
            m=json.load(open(p)) if os.path.exists(p) else json.load(gzip.open(p+'.gz'))\n\
            print('\\n'.join(sorted(m['operations'])))";
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .output()
            .ok()?;
        out.status.success().then(|| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
    }

    #[test]
    fn every_operation_of_botocores_model_is_listed() {
        let Some(ops) = botocore_kms_operations() else {
            eprintln!("botocore not installed: the model's list is not checked against it");
            return;
        };
        assert!(ops.len() > 40, "{ops:?}");
        for op in &ops {
            assert!(KMS_OPERATIONS.contains(&op.as_str()), "{op} is missing");
        }
    }

    #[test]
    fn every_exception_names_a_routed_operation() {
        for (op, ..) in KMS_EXCEPTIONS {
            assert!(Service::Kms.routed_operations().any(|r| r == *op), "{op}");
        }
    }

    #[test]
    fn readme_operations_table_matches_the_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = TABLE_MARKERS;
        let start = readme
            .find(begin)
            .expect("README has the operations markers")
            + begin.len();
        let stop = start + readme[start..].find(end).expect("README's end marker");
        let table = operations_table();
        if std::env::var_os("UPDATE_OPERATIONS").is_some() {
            let updated = format!("{}{table}{}", &readme[..start], &readme[stop..]);
            std::fs::write(&path, updated).unwrap();
        } else {
            assert_eq!(
                &readme[start..stop],
                table,
                "README's operations table is stale: run UPDATE_OPERATIONS=1 cargo test --lib operations_table"
            );
        }
        for op in KMS_OPERATIONS {
            assert!(table.contains(&format!("| {op} |")), "{op}");
        }
    }

    #[test]
    fn an_operation_not_implemented_is_400_naming_it() {
        for service in Service::values() {
            let e = not_implemented(*service, "Sign");
            assert_eq!(e.http_status(), 400);
            assert!(e.message().contains("Sign"));
        }
    }
}
