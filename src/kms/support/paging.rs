//! Paging of the list operations: the `Limit` check and the opaque markers
//! (a sequence number, or for ListAliases the name to continue from,
//! base64-encoded).

use crate::error::{Error, Result, kms_err};
use crate::ids::AliasName;

/// Checks a list operation's `Limit` (1–`max`, `default` when absent).
pub(crate) fn check_limit(limit: Option<u32>, default: u32, max: u32) -> Result<usize> {
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(Error::validation(
            "limit",
            format_args!("Member must have value between 1 and {max}"),
        ));
    }
    Ok(limit as usize)
}

/// Paging markers are opaque to callers: a sequence number, base64-encoded.
pub(crate) fn encode_marker(seq: u64) -> String {
    crate::base64_blob::encode(&seq.to_be_bytes())
}

/// Reads a marker made by [`encode_marker`]; anything else is `InvalidMarkerException`.
pub(crate) fn decode_marker(marker: &str) -> Result<u64> {
    let bad = || {
        kms_err!(
            InvalidMarker,
            "Marker '{marker}' is not one this service returned."
        )
    };
    if marker.is_empty() || marker.len() > 1024 {
        return Err(Error::validation(
            "marker",
            "Member must have length between 1 and 1024",
        ));
    }
    let bytes = crate::base64_blob::decode(marker).map_err(|_| bad())?;
    let arr: [u8; 8] = bytes.try_into().map_err(|_| bad())?;
    Ok(u64::from_be_bytes(arr))
}

/// Alias markers carry the name to continue from, base64-encoded.
pub(crate) fn encode_alias_marker(name: &AliasName) -> String {
    crate::base64_blob::encode(name.as_str().as_bytes())
}

/// Reads a marker made by [`encode_alias_marker`]; anything else is
/// `InvalidMarkerException`.
pub(crate) fn decode_alias_marker(marker: &str) -> Result<AliasName> {
    if marker.is_empty() || marker.chars().count() > 1024 {
        return Err(Error::validation(
            "marker",
            "Member must have length between 1 and 1024",
        ));
    }
    let bad = || {
        kms_err!(
            InvalidMarker,
            "Marker '{marker}' is not one this service returned. Pass the NextMarker of the previous ListAliases response."
        )
    };
    let bytes = crate::base64_blob::decode(marker).map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    s.parse().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_markers_round_trip_and_reject_foreign_values() {
        let name: AliasName = "alias/a/b_c-d".parse().unwrap();
        assert_eq!(
            decode_alias_marker(&encode_alias_marker(&name)).unwrap(),
            name
        );
        for bad in ["not base64!", "AAAAAAAAAAA=", "YXBw"] {
            assert_eq!(
                decode_alias_marker(bad).unwrap_err().code(),
                "InvalidMarkerException",
                "{bad}"
            );
        }
        assert_eq!(
            decode_alias_marker("").unwrap_err().code(),
            "ValidationException"
        );
    }
}
