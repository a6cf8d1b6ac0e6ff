//! Certificates made in the test (rcgen): CAs, server certificates for a
//! name, client certificates, written as PEM files to a fresh directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A certificate authority made in the test.
pub(crate) struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
}

/// A certificate and its key, as PEM files.
pub(crate) struct Leaf {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) key_pem: String,
}

impl Ca {
    /// A fresh CA named `name`, writing its files to a fresh directory.
    pub(crate) fn new(name: &str) -> Ca {
        let dir = std::env::temp_dir().join(format!(
            "kms-keystore-pki-{}-{}-{name}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer, dir }
    }

    /// The CA's certificate (PEM).
    pub(crate) fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA's certificate as a PEM file.
    pub(crate) fn cert_file(&self) -> PathBuf {
        let path = self.dir.join("ca.pem");
        std::fs::write(&path, self.pem()).unwrap();
        path
    }

    /// A server certificate for `dns_name`, chain (leaf, CA) and key.
    pub(crate) fn server(&self, dns_name: &str) -> Leaf {
        self.leaf(
            dns_name,
            vec![dns_name.to_owned()],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate named `name`, chain and key.
    pub(crate) fn client(&self, name: &str) -> Leaf {
        self.leaf(name, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, name: &str, sans: Vec<String>, usage: ExtendedKeyUsagePurpose) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(sans).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let stem = name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let cert_path = self.dir.join(format!("{stem}.pem"));
        let key_path = self.dir.join(format!("{stem}.key.pem"));
        std::fs::write(&cert_path, format!("{}{}", cert.pem(), self.pem())).unwrap();
        let key_pem = key.serialize_pem();
        std::fs::write(&key_path, &key_pem).unwrap();
        Leaf {
            cert: cert_path,
            key: key_path,
            key_pem,
        }
    }
}

impl Leaf {
    /// The chain and key as PEM text.
    pub(crate) fn pems(&self) -> (Vec<u8>, Vec<u8>) {
        (read(&self.cert), read(&self.key))
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}
