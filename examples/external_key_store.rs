//! An external key store end to end: an external key manager behind an XKS
//! proxy (the in-memory one), the external key store, a KMS key backed by an
//! external key, double encryption, and XksKeyAlreadyInUseException — each
//! step printed as the aws CLI shows it.
//!
//! Run with `cargo run --example external_key_store` (optionally
//! `-- --xks-key-id <id>` to pick the external key).

use std::sync::Arc;

use kms_keystore::xks::{InMemoryExternalKeyManager, XksCredential, XksOperation, XksProxyUri};
use kms_keystore::{
    CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoreType, DecryptRequest,
    DescribeCustomKeyStoresRequest, EncryptRequest, Kms, KmsConfig, OriginType,
    XksProxyAuthenticationCredential, XksProxyConnectivityType,
};
use serde_json::Value;

const ENDPOINT: &str = "https://myproxy.xks.example.com";
const PATH: &str = "/kms/xks/v1";
const ACCESS_KEY_ID: &str = "EXAMPLEACCESSKEYID23";
const SECRET: &str = "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let xks_key_id = xks_key_id_argument().unwrap_or_else(|| "bb8562717f809024".to_owned());
    let kms = Kms::new(KmsConfig::new("111122223333", "us-west-2")?.with_seed(2022));

    // The external key manager and its XKS proxy, outside AWS. The proxy
    // accepts one SigV4 credential; it holds two AES-256 keys.
    let proxy = InMemoryExternalKeyManager::new(
        XksProxyUri::new(ENDPOINT, PATH)?,
        XksCredential::new(ACCESS_KEY_ID, SECRET)?,
        None,
    );
    proxy.add_aes_key(&xks_key_id)?;
    proxy.add_aes_key("c3b8a1f09d2e4711")?;
    kms.xks_network().attach(ENDPOINT, Arc::new(proxy.clone()));
    println!(
        "# An XKS proxy listens at {ENDPOINT}{PATH} with external keys {:?}\n",
        proxy
            .key_ids()
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
    );

    println!(
        "$ aws kms create-custom-key-store --custom-key-store-name ExampleXksKeyStore \\\n    --custom-key-store-type EXTERNAL_KEY_STORE --xks-proxy-connectivity PUBLIC_ENDPOINT \\\n    --xks-proxy-uri-endpoint {ENDPOINT} --xks-proxy-uri-path {PATH} \\\n    --xks-proxy-authentication-credential AccessKeyId={ACCESS_KEY_ID},RawSecretAccessKey=<secret>"
    );
    let created = kms.create_custom_key_store(CreateCustomKeyStoreRequest {
        custom_key_store_name: "ExampleXksKeyStore".into(),
        custom_key_store_type: Some(CustomKeyStoreType::ExternalKeyStore),
        xks_proxy_uri_endpoint: Some(ENDPOINT.into()),
        xks_proxy_uri_path: Some(PATH.into()),
        xks_proxy_connectivity: Some(XksProxyConnectivityType::PublicEndpoint),
        xks_proxy_authentication_credential: Some(XksProxyAuthenticationCredential {
            access_key_id: ACCESS_KEY_ID.into(),
            raw_secret_access_key: SECRET.into(),
        }),
        ..Default::default()
    })?;
    print_cli(&created)?;
    let store = created.custom_key_store_id.to_string();

    println!("\n$ aws kms connect-custom-key-store --custom-key-store-id {store}");
    kms.connect_custom_key_store(&store)?;

    println!("\n$ aws kms describe-custom-key-stores --custom-key-store-id {store}");
    print_cli(
        &kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest {
            custom_key_store_id: Some(store.clone()),
            ..Default::default()
        })?,
    )?;

    println!(
        "\n$ aws kms create-key --origin EXTERNAL_KEY_STORE --custom-key-store-id {store} --xks-key-id {xks_key_id}"
    );
    let request = CreateKeyRequest {
        origin: Some(OriginType::ExternalKeyStore),
        custom_key_store_id: Some(store.clone()),
        xks_key_id: Some(xks_key_id.clone()),
        ..Default::default()
    };
    let key = kms.create_key(request.clone())?;
    print_cli(&key)?;
    let key_id = key.key_metadata.key_id.to_string();

    println!(
        "\n$ aws kms encrypt --key-id {key_id} --plaintext fileb://<(echo -n 'Hello, external key store!')"
    );
    let encrypted = kms.encrypt(EncryptRequest {
        key_id: key_id.clone(),
        plaintext: "Hello, external key store!".into(),
        ..Default::default()
    })?;
    print_cli(&encrypted)?;

    println!("\n$ aws kms decrypt --ciphertext-blob fileb://ciphertext.bin");
    let decrypted = kms.decrypt(DecryptRequest {
        ciphertext_blob: encrypted.ciphertext_blob.clone(),
        ..Default::default()
    })?;
    // The response type redacts the plaintext; the CLI prints it as base64.
    print_value(serde_json::json!({
        "KeyId": decrypted.key_id,
        "Plaintext": kms_keystore::internal::base64_encode(decrypted.plaintext.expose_secret()),
        "EncryptionAlgorithm": decrypted.encryption_algorithm,
    }));
    println!(
        "# = {:?}",
        String::from_utf8_lossy(decrypted.plaintext.expose_secret())
    );

    println!(
        "\n$ aws kms create-key --origin EXTERNAL_KEY_STORE --custom-key-store-id {store} --xks-key-id {xks_key_id}"
    );
    match kms.create_key(request) {
        Ok(_) => println!("unexpected: a second KMS key over the same external key"),
        Err(err) => println!(
            "\nAn error occurred ({}) when calling the CreateKey operation: {}",
            err.code(),
            err.message()
        ),
    }

    println!(
        "\n# Proxy calls seen by the external key manager: GetHealthStatus={}, GetKeyMetadata={}, Encrypt={}, Decrypt={}",
        proxy.calls(XksOperation::GetHealthStatus),
        proxy.calls(XksOperation::GetKeyMetadata),
        proxy.calls(XksOperation::Encrypt),
        proxy.calls(XksOperation::Decrypt),
    );
    Ok(())
}

/// `--xks-key-id <id>` or `--xks-key-id=<id>` from the command line.
fn xks_key_id_argument() -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--xks-key-id" {
            return args.next();
        }
        if let Some(v) = arg.strip_prefix("--xks-key-id=") {
            return Some(v.to_owned());
        }
    }
    None
}

/// Prints a response as the aws CLI does: two-space JSON, keys in
/// case-insensitive order, timestamps as ISO 8601.
fn print_cli(response: &impl serde::Serialize) -> Result<(), serde_json::Error> {
    print_value(serde_json::to_value(response)?);
    Ok(())
}

fn print_value(v: Value) {
    let mut out = String::new();
    write_json(&v, 0, None, &mut out);
    println!("{out}");
}

fn write_json(v: &Value, indent: usize, key: Option<&str>, out: &mut String) {
    let pad = |n: usize| "  ".repeat(n);
    match v {
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| k.to_ascii_lowercase());
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                out.push_str(&format!("{}\"{k}\": ", pad(indent + 1)));
                write_json(&map[k.as_str()], indent + 1, Some(k), out);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{}}}", pad(indent)));
        }
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(indent + 1));
                write_json(item, indent + 1, None, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{}]", pad(indent)));
        }
        Value::Number(n) if key.is_some_and(|k| k.ends_with("Date")) => {
            out.push_str(&format!("\"{}\"", iso8601(n.as_f64().unwrap_or_default())));
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Epoch seconds as `YYYY-MM-DDThh:mm:ss+00:00` (the CLI shows local time;
/// UTC keeps the output the same everywhere).
fn iso8601(epoch_secs: f64) -> String {
    let secs = epoch_secs.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
