//! The main example: create a key, give it an alias, encrypt through the
//! alias, decrypt, generate a data key and print the key's metadata as the
//! aws CLI shows it.
//!
//! Run with `cargo run --example quickstart`.

use kms_keystore::{
    CreateAliasRequest, CreateKeyRequest, DataKeySpec, DecryptRequest, EncryptRequest,
    EncryptionContext, GenerateDataKeyRequest, Kms, KmsConfig, ListAliasesRequest,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kms = Kms::new(KmsConfig::new("111122223333", "us-west-2")?);

    let created = kms.create_key(CreateKeyRequest::with_description("Example key"))?;
    println!("$ aws kms create-key --description \"Example key\"");
    println!("{}", serde_json::to_string_pretty(&created)?);
    let key_id = created.key_metadata.key_id.to_string();

    // An alias names the key in Encrypt, GenerateDataKey and DescribeKey.
    kms.create_alias(CreateAliasRequest::new("alias/quickstart", &key_id))?;
    println!("\n$ aws kms create-alias --alias-name alias/quickstart --target-key-id {key_id}");
    println!("\n$ aws kms list-aliases");
    println!(
        "{}",
        serde_json::to_string_pretty(&kms.list_aliases(ListAliasesRequest::default())?)?
    );

    let context: EncryptionContext = [("purpose".to_string(), "quickstart".to_string())].into();
    let encrypted = kms.encrypt(EncryptRequest {
        key_id: "alias/quickstart".into(),
        plaintext: "Hello, custom key stores!".into(),
        encryption_context: context.clone(),
        ..Default::default()
    })?;
    println!(
        "\nencrypt (alias/quickstart): {} bytes of ciphertext blob under {}",
        encrypted.ciphertext_blob.len(),
        encrypted.key_id
    );

    let decrypted = kms.decrypt(DecryptRequest {
        ciphertext_blob: encrypted.ciphertext_blob,
        encryption_context: context,
        ..Default::default()
    })?;
    println!(
        "decrypt: {:?} (Debug redacts it) -> {}",
        decrypted.plaintext,
        String::from_utf8_lossy(decrypted.plaintext.expose_secret())
    );

    let data_key = kms.generate_data_key(GenerateDataKeyRequest {
        key_id: key_id.clone(),
        key_spec: Some(DataKeySpec::Aes256),
        ..Default::default()
    })?;
    println!(
        "generate-data-key: {} plaintext bytes, {} bytes encrypted",
        data_key.plaintext.len(),
        data_key.ciphertext_blob.len()
    );

    println!("\n$ aws kms describe-key --key-id {key_id}");
    println!(
        "{}",
        serde_json::to_string_pretty(&kms.describe_key(&key_id)?)?
    );
    Ok(())
}
