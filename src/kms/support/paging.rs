//! Paging of the list operations: the `Limit` check and the opaque markers
//! (a sequence number, or for ListAliases the name to continue from,
//! base64-encoded).

use crate::error::{Error, Result, Shown, Violation, kms_err};
use crate::ids::AliasName;

/// Checks a list operation's `Limit` (1–`max`, `default` when absent).
pub(crate) fn check_limit(limit: Option<u32>, default: u32, max: u32) -> Result<usize> {
    let limit = limit.unwrap_or(default);
    Error::check_all(Violation::range(
        "limit",
        i64::from(limit),
        1,
        i64::from(max),
    ))?;
    Ok(limit as usize)
}

/// The API model's `MarkerType` pattern.
const MARKER_PATTERN: &str = r"[\u0020-\u00FF]*";

/// The model's violations of a `Marker`: 1–1024 characters of
/// `[\u0020-\u00FF]`, each broken constraint reported, the value shown.
pub(crate) fn marker_violations(marker: &str) -> impl Iterator<Item = Violation> {
    let shown = || Shown::Value(marker.to_owned());
    let ok = marker.chars().all(|c| ('\u{20}'..='\u{FF}').contains(&c));
    [
        Violation::pattern("marker", ok, shown, MARKER_PATTERN),
        Violation::length("marker", marker, shown, 1, 1024),
    ]
    .into_iter()
    .flatten()
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
    Error::check_all(marker_violations(marker))?;
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
    Error::check_all(marker_violations(marker))?;
    let bad = || {
        kms_err!(
            InvalidMarker,
            "Marker '{marker}' is not one this service returned."
        )
        .with_hint("Pass the NextMarker of the previous ListAliases response.")
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
