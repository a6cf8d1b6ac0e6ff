//! AWS Signature Version 4 on the servers' requests (the KMS server's, and
//! the XKS proxy's with service `kms-xks-proxy`): the `Authorization`
//! header parsed ([`Authorization::parse`]), the `X-Amz-Date` read and
//! checked against the server's clock ([`check_skew`]), and the signature
//! the request should carry computed with the maintained `aws-sigv4` crate
//! from the request as received ([`expected_signature`]), compared in
//! constant time. The refusals are AWS's ([`Refusal`]).

use std::time::{Duration, UNIX_EPOCH};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use super::WireRequest;
#[cfg(feature = "server")]
use super::WireResponse;

/// The only algorithm AWS's JSON services accept.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a request's `X-Amz-Date` may be from the server's clock.
pub(crate) const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// A request AWS refuses before running it: the exception and its message,
/// all HTTP 400 as AWS's JSON services answer them.
#[derive(Clone, Debug, PartialEq, Eq)]
// The XKS proxy reads every refusal as one 401; only the KMS server names them.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not a SigV4 one, or lacks a part.
    Incomplete(String),
    /// A scope for another service or an invalid Region, an expired or
    /// future date, or a signature that does not match.
    InvalidSignature(String),
    /// An access key id the server does not know.
    UnknownKey,
}

/// AWS's message for a signature that does not match.
#[cfg(feature = "server")]
pub(crate) const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

#[cfg(feature = "server")]
impl Refusal {
    /// The AWS error response.
    pub(crate) fn response(&self) -> WireResponse {
        match self {
            Refusal::Missing => WireResponse::error_with_status(
                400,
                "MissingAuthenticationTokenException",
                "Request is missing Authentication Token",
            ),
            Refusal::Incomplete(m) => {
                WireResponse::error_with_status(400, "IncompleteSignatureException", m)
            }
            Refusal::InvalidSignature(m) => {
                WireResponse::error_with_status(400, "InvalidSignatureException", m)
            }
            Refusal::UnknownKey => WireResponse::error_with_status(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        }
    }
}

/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
/// Signature=…` header. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Authorization<'a> {
    /// The access key id.
    pub(crate) access_key_id: &'a str,
    /// The scope's date, `YYYYMMDD`.
    pub(crate) date: &'a str,
    /// The scope's Region.
    pub(crate) region: &'a str,
    /// The scope's service (signing name).
    pub(crate) service: &'a str,
    /// The signed headers, lower-case, as listed.
    pub(crate) signed_headers: Vec<&'a str>,
    /// The signature, lower-case hex.
    pub(crate) signature: &'a str,
}

impl<'a> Authorization<'a> {
    /// Parses the header's value.
    pub(crate) fn parse(value: &'a str) -> Result<Authorization<'a>, Refusal> {
        let value = value.trim();
        let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
        if algorithm != ALGORITHM {
            let shown: String = algorithm.chars().take(64).collect();
            return Err(Refusal::Incomplete(format!(
                "Unsupported AWS 'algorithm': '{shown}'. Only '{ALGORITHM}' is supported."
            )));
        }
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let Some((name, v)) = part.trim().split_once('=') else {
                continue;
            };
            match name.trim() {
                "Credential" => credential = Some(v.trim()),
                "SignedHeaders" => signed = Some(v.trim()),
                "Signature" => signature = Some(v.trim()),
                _ => {}
            }
        }
        let mut missing = String::new();
        for (name, part) in [
            ("Credential", credential.is_none()),
            ("Signature", signature.is_none()),
            ("SignedHeaders", signed.is_none()),
        ] {
            if part {
                missing.push_str(&format!(
                    "Authorization header requires '{name}' parameter. "
                ));
            }
        }
        let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature)
        else {
            return Err(Refusal::Incomplete(missing.trim_end().to_owned()));
        };
        let parts: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, terminator] = parts[..] else {
            return Err(Refusal::Incomplete(format!(
                "Credential should have 5 parts separated by '/': ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, got {} parts.",
                parts.len()
            )));
        };
        if terminator != "aws4_request" {
            return Err(Refusal::InvalidSignature(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
                terminator.chars().take(64).collect::<String>()
            )));
        }
        if access_key_id.is_empty() {
            return Err(Refusal::Incomplete(
                "Credential has an empty access key id.".to_owned(),
            ));
        }
        Ok(Authorization {
            access_key_id,
            date,
            region,
            service,
            signed_headers: signed.split(';').filter(|h| !h.is_empty()).collect(),
            signature,
        })
    }
}

/// Reads `YYYYMMDDTHHMMSSZ` as seconds since the epoch.
pub(crate) fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || se > 60
    {
        return None;
    }
    let days = crate::clock::days_from_civil(
        i64::try_from(y).ok()?,
        i64::try_from(mo).ok()?,
        i64::try_from(d).ok()?,
    );
    Some(u64::try_from(days).ok()? * 86_400 + h * 3600 + mi * 60 + se)
}

/// Seconds since the epoch as `YYYYMMDDTHHMMSSZ`.
pub(crate) fn format_amz_date(secs: u64) -> String {
    let (y, m, d, h, mi, s) = crate::clock::civil(secs);
    format!("{y:04}{m:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Refuses a request dated more than [`MAX_SKEW`] from `now_secs`, with
/// AWS's wording.
pub(crate) fn check_skew(amz_date: &str, date_secs: u64, now_secs: u64) -> Result<(), Refusal> {
    let skew = MAX_SKEW.as_secs();
    if date_secs.saturating_add(skew) < now_secs {
        return Err(Refusal::InvalidSignature(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            format_amz_date(now_secs - skew),
            format_amz_date(now_secs)
        )));
    }
    if date_secs > now_secs.saturating_add(skew) {
        return Err(Refusal::InvalidSignature(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            format_amz_date(now_secs + skew),
            format_amz_date(now_secs)
        )));
    }
    Ok(())
}

/// The signature `req` should carry if signed at `date_secs` with the
/// secret `secret` (never logged, never kept) for `auth`'s scope, over the headers `auth` lists;
/// `None` when the request cannot be rebuilt (a header or target that is
/// not valid HTTP), which the caller treats as a mismatch.
pub(crate) fn expected_signature(
    req: &WireRequest<'_>,
    auth: &Authorization<'_>,
    secret: &str,
    date_secs: u64,
) -> Option<String> {
    let host = req.header("host").unwrap_or("localhost");
    let path = if req.path.is_empty() { "/" } else { req.path };
    if !path.starts_with('/') {
        return None;
    }
    let uri = format!("http://{host}{path}");
    let headers = req
        .headers
        .iter()
        .filter(|(name, _)| auth.signed_headers.contains(&name.as_str()))
        .map(|(n, v)| (n.as_str(), v.as_str()));
    let body = match req.header("x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => SignableBody::UnsignedPayload,
        _ => SignableBody::Bytes(req.body),
    };
    let signable = SignableRequest::new(req.method, uri, headers, body).ok()?;
    let credentials = aws_credential_types::Credentials::new(
        auth.access_key_id,
        secret,
        None,
        None,
        "kms-keystore-server",
    );
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    // Sign exactly what the client listed: nothing is left out.
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(auth.service)
        .time(UNIX_EPOCH + Duration::from_secs(date_secs))
        .settings(settings)
        .build()
        .ok()?
        .into();
    // The signer's own checks `expect` on inputs we have already vetted
    // (a host and UTF-8 header values); guard anyway, never panic.
    let signed =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sign(signable, &params))).ok()?;
    signed.ok().map(|out| out.signature().to_owned())
}

/// True if `provided` equals `expected`, compared in constant time.
pub(crate) fn signatures_match(expected: &str, provided: &str) -> bool {
    constant_time_eq::constant_time_eq(expected.as_bytes(), provided.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip() {
        for s in [
            "19700101T000000Z",
            "20150830T123600Z",
            "20000229T235959Z",
            "20991231T010203Z",
        ] {
            let secs = parse_amz_date(s).unwrap();
            assert_eq!(format_amz_date(secs), s);
        }
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_amz_date("2015-08-30T12:36"), None);
        assert_eq!(parse_amz_date("20151330T123600Z"), None);
    }

    #[test]
    fn parses_an_authorization_header() {
        let a = Authorization::parse("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=abcd").unwrap();
        assert_eq!(a.access_key_id, "AKIDEXAMPLE");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.service, "kms");
        assert_eq!(a.signed_headers, ["host", "x-amz-date", "x-amz-target"]);
        assert_eq!(a.signature, "abcd");
        assert!(matches!(
            Authorization::parse("Bearer x"),
            Err(Refusal::Incomplete(_))
        ));
        assert!(matches!(
            Authorization::parse("AWS4-HMAC-SHA256 Credential=A/B/C/kms/aws4_request"),
            Err(Refusal::Incomplete(m)) if m.contains("'Signature'") && m.contains("'SignedHeaders'")
        ));
    }
}
