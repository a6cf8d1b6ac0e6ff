//! Every validated identifier parser: no panic on any input, and what parses
//! prints back to a string that parses to the same value.
#![no_main]
use kms_keystore::{
    AccountId, AliasName, ClusterId, ConnectionErrorCode, ConnectionStateType, CustomKeyStoreId,
    CustomKeyStoreType, HsmId, KeyId, KeyIdentifier, Region, XksKeyId,
};
use libfuzzer_sys::fuzz_target;

macro_rules! round_trip {
    ($s:expr, $($ty:ty),+) => {$(
        if let Ok(v) = $s.parse::<$ty>() {
            let printed = v.to_string();
            assert_eq!(printed.parse::<$ty>().ok(), Some(v));
        }
    )+};
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    round_trip!(
        s,
        AccountId,
        Region,
        KeyId,
        KeyIdentifier,
        AliasName,
        CustomKeyStoreId,
        ClusterId,
        HsmId,
        XksKeyId,
        ConnectionErrorCode,
        ConnectionStateType,
        CustomKeyStoreType
    );
});
