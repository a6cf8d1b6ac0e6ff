//! The walkthrough of the AWS KMS developer guide's "Creating KMS keys in an
//! AWS CloudHSM key store": provision a CloudHSM cluster (two HSMs in two
//! Availability Zones, the `kmsuser` crypto user), create the CloudHSM key
//! store, connect it, check it (DescribeCustomKeyStores and cloudhsmv2
//! DescribeClusters), create a KMS key in it, encrypt and decrypt, and then
//! show a documented failure: CreateKey once the cluster is down to one HSM.
//!
//! Each response is printed as the aws CLI prints it. Seeded and on a manual
//! clock (set to the guide's example CreationDate), so every run prints the
//! same ids, timestamps and ciphertext.
//!
//! Run with `cargo run --example cloudhsm_key_store`.

use kms_keystore::{
    CreateCustomKeyStoreRequest, CreateKeyRequest, CustomKeyStoreType, DecryptRequest,
    DescribeCustomKeyStoresRequest, EncryptRequest, Kms, KmsConfig, ManualClock, OriginType,
    SecretString, Timestamp,
};

/// The content of `customerCA.crt`, the trust anchor made when the cluster
/// was initialized (an example; the model only needs a PEM certificate).
const CUSTOMER_CA: &str = "-----BEGIN CERTIFICATE-----
MIIDhzCCAm+gAwIBAgIJAO7ExampleTrustAnchorForTheClusterOfThisWalkthrough
-----END CERTIFICATE-----
";

fn print_json(value: &impl serde::Serialize) -> Result<(), serde_json::Error> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let clock = ManualClock::new(Timestamp::from_millis(1_499_288_695_918));
    let kms = Kms::new(
        KmsConfig::new("111122223333", "us-west-2")?
            .with_clock(clock)
            .with_seed(2017),
    );

    // 1. The cluster, as the CloudHSM getting-started guide builds it.
    let hsm = kms.cloudhsm();
    let cluster = hsm.create_cluster(&[
        ("subnet-a6b10bd1", "us-west-2a"),
        ("subnet-b6b10bd2", "us-west-2b"),
    ])?;
    let first_hsm = hsm.create_hsm(&cluster, "us-west-2a")?;
    hsm.initialize_cluster(&cluster, CUSTOMER_CA)?;
    hsm.activate_cluster(&cluster)?;
    hsm.create_hsm(&cluster, "us-west-2b")?;
    println!("aws-cloudhsm> createUser CU kmsuser kmsPswd");
    hsm.create_user(&cluster, "kmsuser", "kmsPswd", false)?;

    // 2. The key store.
    println!(
        "\n$ aws kms create-custom-key-store --custom-key-store-name ExampleKeyStore \\\n        --cloud-hsm-cluster-id {cluster} --key-store-password kmsPswd \\\n        --trust-anchor-certificate file://customerCA.crt"
    );
    let created = kms.create_custom_key_store(CreateCustomKeyStoreRequest {
        custom_key_store_name: "ExampleKeyStore".into(),
        custom_key_store_type: Some(CustomKeyStoreType::AwsCloudhsm),
        cloud_hsm_cluster_id: Some(cluster.to_string()),
        trust_anchor_certificate: Some(CUSTOMER_CA.into()),
        key_store_password: Some(SecretString::from("kmsPswd")),
        ..Default::default()
    })?;
    print_json(&created)?;
    let store = created.custom_key_store_id.to_string();

    // 3. Connect (KMS logs in as kmsuser and rotates its password).
    println!("\n$ aws kms connect-custom-key-store --custom-key-store-id {store}");
    kms.connect_custom_key_store(&store)?;

    // 4. Check the store is connected and the cluster has two active HSMs.
    println!("\n$ aws kms describe-custom-key-stores --custom-key-store-id {store}");
    let described = kms.describe_custom_key_stores(DescribeCustomKeyStoresRequest {
        custom_key_store_id: Some(store.clone()),
        ..Default::default()
    })?;
    // The CLI pages through the results and prints only the list.
    print_json(&serde_json::json!({ "CustomKeyStores": described.custom_key_stores }))?;
    println!("\n$ aws cloudhsmv2 describe-clusters");
    print_json(&hsm.describe_clusters(None))?;

    // 5. A KMS key in the store: its material is a key in the cluster.
    println!(
        "\n$ aws kms create-key --origin AWS_CLOUDHSM --custom-key-store-id {store} --description \"Example key\""
    );
    let key = kms.create_key(CreateKeyRequest {
        origin: Some(OriginType::AwsCloudHsm),
        custom_key_store_id: Some(store.clone()),
        description: Some("Example key".into()),
        ..Default::default()
    })?;
    print_json(&key)?;
    let key_id = key.key_metadata.key_id.to_string();

    // 6. Encrypt and decrypt: the AES work happens in the cluster.
    println!("\n$ aws kms encrypt --key-id {key_id} --plaintext fileb://secret.txt");
    let encrypted = kms.encrypt(EncryptRequest {
        key_id: key_id.clone(),
        plaintext: "Hello, CloudHSM key store!".into(),
        ..Default::default()
    })?;
    print_json(&encrypted)?;
    println!("\n$ aws kms decrypt --ciphertext-blob fileb://secret.enc");
    let decrypted = kms.decrypt(DecryptRequest {
        ciphertext_blob: encrypted.ciphertext_blob,
        ..Default::default()
    })?;
    print_json(&decrypted)?;
    println!(
        "(the plaintext, which JSON output redacts: {:?})",
        String::from_utf8_lossy(decrypted.plaintext.expose_secret())
    );

    // 7. A documented failure: CreateKey needs two active HSMs in different
    //    Availability Zones.
    println!("\n$ aws cloudhsmv2 delete-hsm --cluster-id {cluster} --hsm-id {first_hsm}");
    hsm.delete_hsm(&cluster, &first_hsm)?;
    println!(
        "\n$ aws kms create-key --origin AWS_CLOUDHSM --custom-key-store-id {store} --description \"Example key\""
    );
    match kms.create_key(CreateKeyRequest {
        origin: Some(OriginType::AwsCloudHsm),
        custom_key_store_id: Some(store.clone()),
        description: Some("Example key".into()),
        ..Default::default()
    }) {
        Ok(_) => return Err("CreateKey should have failed with one HSM left".into()),
        Err(e) => println!(
            "\nAn error occurred ({}) when calling the CreateKey operation: {}",
            e.code(),
            e.message()
        ),
    }
    Ok(())
}
