//! The AWS JSON 1.1 dispatcher: any target and body get an AWS-shaped JSON
//! answer with a known status, never a panic.
#![no_main]
use std::sync::OnceLock;

use kms_keystore::server::{Dispatcher, Service};
use kms_keystore::{Kms, KmsConfig};
use libfuzzer_sys::fuzz_target;

fn dispatcher() -> &'static (Dispatcher, Vec<String>) {
    static D: OnceLock<(Dispatcher, Vec<String>)> = OnceLock::new();
    D.get_or_init(|| {
        let kms = Kms::new(KmsConfig::default().with_seed(1));
        let targets = Service::values()
            .iter()
            .flat_map(|s| {
                s.model_operations()
                    .iter()
                    .map(move |op| format!("{}.{op}", s.target_prefix()))
            })
            .collect();
        (Dispatcher::new(kms), targets)
    })
}

fuzz_target!(|data: &[u8]| {
    let (w, targets) = dispatcher();
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let target = targets
        .get(usize::from(pick) % (targets.len() + 1))
        .map_or("TrentService.Nope", String::as_str);
    let r = w.dispatch(target, body);
    assert!(
        [200, 400, 412, 500, 501, 503].contains(&r.status),
        "{}",
        r.status
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("a JSON body");
    assert!(v.is_object());
    if r.status != 200 {
        assert!(v["__type"].is_string());
    }
});
