//! Validated identifiers: key ids and ARNs, alias names, custom key store ids,
//! CloudHSM cluster and HSM ids, external key ids, account ids and Regions.
//!
//! Each is a newtype whose constructor (`FromStr`, serde) checks the API
//! model's pattern and length, so a value of the type is always well formed.
//! Parsing a KMS `KeyId` parameter (key id, key ARN, alias name or alias ARN)
//! gives a [`KeyIdentifier`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{AwsMessage, Constraint, Error, Result, Shown, kms_err};

/// Whether `a` and `b` are the same bytes, compared inline: 16-byte
/// blocks (the last one overlapping the one before), or two overlapping
/// words for 8 to 15 bytes. `==` on slices of a length not known at
/// compile time calls `memcmp`; on the hot path, for the 12-digit account
/// ids asked on every call and the CloudHSM cache's labels and cluster
/// ids, that call cost more than the compare.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if let (Some(a_last), Some(b_last)) = (a.last_chunk::<16>(), b.last_chunk::<16>()) {
        return a_last == b_last
            && a.chunks_exact(16)
                .zip(b.chunks_exact(16))
                .all(|(x, y)| x.first_chunk::<16>() == y.first_chunk::<16>());
    }
    match (
        a.first_chunk::<8>(),
        a.last_chunk::<8>(),
        b.first_chunk::<8>(),
        b.last_chunk::<8>(),
    ) {
        (Some(a0), Some(a1), Some(b0), Some(b1)) => a0 == b0 && a1 == b1,
        _ => a == b,
    }
}

/// Implements `PartialEq` for a string newtype with [`same_bytes`] (byte
/// equality, as derived, compared inline), and `Hash` over the same string
/// so equal ids hash alike. For the ids compared on the hot path: the
/// account id (every call asks whether its caller is of another account)
/// and the cluster id (every CloudHSM cache hit).
macro_rules! inline_eq {
    ($ty:ident) => {
        impl PartialEq for $ty {
            #[inline]
            fn eq(&self, other: &$ty) -> bool {
                same_bytes(self.0.as_bytes(), other.0.as_bytes())
            }
        }
        impl std::hash::Hash for $ty {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state);
            }
        }
    };
}

/// Implements Display, AsRef<str>, FromStr and serde for a validated string newtype.
macro_rules! string_id {
    ($ty:ident) => {
        impl $ty {
            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

fn check_len(field: &str, s: &str, min: usize, max: usize) -> Result<()> {
    // A char is 1–4 bytes: a byte length in [4 * min, max] settles it
    // without counting (the hot path: every Encrypt parses its KeyId).
    if s.len() <= max && s.len() >= min.saturating_mul(4) {
        return Ok(());
    }
    let n = s.chars().count();
    if n < min {
        return Err(Error::invalid(
            field,
            Shown::Value(s.to_owned()),
            Constraint::MinLength(min),
        ));
    }
    if n > max {
        return Err(Error::invalid(
            field,
            Shown::Value(s.to_owned()),
            Constraint::MaxLength(max),
        ));
    }
    Ok(())
}

fn check_chars(field: &str, s: &str, pattern: &str, ok: impl Fn(char) -> bool) -> Result<()> {
    if s.chars().all(ok) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            Shown::Value(s.to_owned()),
            Constraint::Pattern(pattern.to_owned()),
        ))
    }
}

/// Characters of the cloudhsmv2 id alphabet `[2-7a-zA-Z]`.
fn is_hsm_alphabet(c: char) -> bool {
    c.is_ascii_alphabetic() || ('2'..='7').contains(&c)
}

/// A 12-digit AWS account id, e.g. `111122223333`.
#[derive(Clone, Eq, PartialOrd, Ord, Debug)]
pub struct AccountId(String);
string_id!(AccountId);

inline_eq!(AccountId);

impl AccountId {
    /// For constants known to be valid.
    pub(crate) fn new_unchecked(s: &str) -> AccountId {
        AccountId(s.to_owned())
    }
}

impl FromStr for AccountId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s.to_owned()))
        } else {
            Err(Error::invalid(
                "AWSAccountId",
                Shown::Value(s.to_owned()),
                Constraint::Pattern("^[0-9]{12}$".to_owned()),
            ))
        }
    }
}

/// An AWS Region name, e.g. `us-west-2`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Region(String);
string_id!(Region);

impl Region {
    /// For constants known to be valid.
    pub(crate) fn new_unchecked(s: &str) -> Region {
        Region(s.to_owned())
    }
}

impl FromStr for Region {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split('-').collect();
        let ok = parts.len() >= 3
            && s.len() <= 32
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts
                .last()
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Region(s.to_owned()))
        } else {
            Err(kms_err!(Validation, "'{s}' is not an AWS Region name.")
                .with_hint("A Region name looks like us-west-2."))
        }
    }
}

/// An AWS partition: keys and principals of different partitions never
/// meet (`arn:aws-cn:kms:…` does not name an `arn:aws:kms:…` key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum AwsPartition {
    /// `aws`: the commercial Regions.
    #[default]
    Aws,
    /// `aws-cn`: the China Regions (`cn-north-1`, `cn-northwest-1`).
    AwsCn,
    /// `aws-us-gov`: AWS GovCloud (US) (`us-gov-west-1`, `us-gov-east-1`).
    AwsUsGov,
}

impl AwsPartition {
    /// The partition's name as ARNs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            AwsPartition::Aws => "aws",
            AwsPartition::AwsCn => "aws-cn",
            AwsPartition::AwsUsGov => "aws-us-gov",
        }
    }

    /// The partition a Region belongs to.
    ///
    /// ```
    /// use kms_keystore::AwsPartition;
    /// assert_eq!(AwsPartition::of_region(&"cn-north-1".parse().unwrap()), AwsPartition::AwsCn);
    /// assert_eq!(AwsPartition::of_region(&"us-gov-west-1".parse().unwrap()), AwsPartition::AwsUsGov);
    /// assert_eq!(AwsPartition::of_region(&"eu-west-1".parse().unwrap()), AwsPartition::Aws);
    /// ```
    pub fn of_region(region: &Region) -> AwsPartition {
        let r = region.as_str();
        if r.starts_with("cn-") {
            AwsPartition::AwsCn
        } else if r.starts_with("us-gov-") {
            AwsPartition::AwsUsGov
        } else {
            AwsPartition::Aws
        }
    }
}

impl fmt::Display for AwsPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AwsPartition {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "aws" => Ok(AwsPartition::Aws),
            "aws-cn" => Ok(AwsPartition::AwsCn),
            "aws-us-gov" => Ok(AwsPartition::AwsUsGov),
            _ => Err(kms_err!(InvalidArn, "'{s}' is not an AWS partition")),
        }
    }
}

/// A KMS key id: a UUID such as `1234abcd-12ab-34cd-56ef-1234567890ab`,
/// or, for a multi-Region key, `mrk-` and 32 lowercase hexadecimal digits
/// (the same id in every Region the key is replicated to).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct KeyId(KeyIdRepr);

/// The two forms of a key id: 16 bytes either way.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum KeyIdRepr {
    Uuid(uuid::Uuid),
    MultiRegion([u8; 16]),
}

impl KeyId {
    /// A version-4 UUID made from 16 random bytes.
    pub fn from_random_bytes(bytes: [u8; 16]) -> KeyId {
        KeyId(KeyIdRepr::Uuid(
            uuid::Builder::from_random_bytes(bytes).into_uuid(),
        ))
    }

    /// A multi-Region key id (`mrk-` and the 16 bytes in hex).
    pub fn multi_region_from_bytes(bytes: [u8; 16]) -> KeyId {
        KeyId(KeyIdRepr::MultiRegion(bytes))
    }

    /// True for a multi-Region key id (`mrk-…`).
    pub fn is_multi_region(&self) -> bool {
        matches!(self.0, KeyIdRepr::MultiRegion(_))
    }

    /// The id's 16 bytes (as carried in ciphertext blobs; the blob's
    /// format says which form they are).
    pub fn as_bytes(&self) -> &[u8; 16] {
        match &self.0 {
            KeyIdRepr::Uuid(u) => u.as_bytes(),
            KeyIdRepr::MultiRegion(b) => b,
        }
    }

    /// The UUID key id a hyphenated UUID of either case spells, or `None`
    /// (what [`KeyId::from_str`] reads first, without building an error).
    #[inline]
    pub(crate) fn parse_hyphenated(s: &str) -> Option<KeyId> {
        hyphenated_uuid_bytes(s).map(KeyId::from_bytes)
    }

    /// The UUID key id from its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> KeyId {
        KeyId(KeyIdRepr::Uuid(uuid::Uuid::from_bytes(bytes)))
    }

    /// The key ARN in `region` of `account`.
    pub fn arn(&self, region: &Region, account: &AccountId) -> String {
        format!(
            "arn:{}:kms:{region}:{account}:key/{self}",
            AwsPartition::of_region(region)
        )
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            KeyIdRepr::Uuid(u) => fmt::Display::fmt(&u.hyphenated(), f),
            KeyIdRepr::MultiRegion(b) => {
                f.write_str("mrk-")?;
                b.iter().try_for_each(|x| write!(f, "{x:02x}"))
            }
        }
    }
}

impl FromStr for KeyId {
    type Err = Error;
    /// Parses the hyphenated lowercase-or-uppercase UUID form, or a
    /// multi-Region key id (`mrk-` and 32 lowercase hexadecimal digits).
    /// Anything else is `NotFoundException` ("Invalid keyId"), as AWS
    /// answers.
    fn from_str(s: &str) -> Result<Self> {
        if let Some(id) = KeyId::parse_hyphenated(s) {
            return Ok(id);
        }
        if let Some(bytes) = multi_region_key_bytes(s) {
            return Ok(KeyId::multi_region_from_bytes(bytes));
        }
        Err(Error::from(AwsMessage::InvalidKeyId {
            key_id: s.to_owned(),
        }))
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The 16 bytes of a hyphenated UUID (`8-4-4-4-12` hexadecimal digits of
/// either case), as `uuid::Uuid::try_parse` reads one of 36 characters.
///
/// Every keyed call parses its KeyId, so the 32 digits are read as four
/// words of eight and decoded eight at a time ([`hex_word`]): straight-line
/// code, about a sixth fewer instructions than a table lookup per digit
/// (cachegrind: about 185 against 220 an id), and none of the
/// byte-by-byte copying of `uuid`'s own parser, whose vector read then
/// waited for the copies to retire.
#[inline]
fn hyphenated_uuid_bytes(s: &str) -> Option<[u8; 16]> {
    let s: &[u8; 36] = s.as_bytes().try_into().ok()?;
    if [s[8], s[13], s[18], s[23]] != [b'-'; 4] {
        return None;
    }
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    };
    // Two groups of four digits, around a hyphen, as one word.
    let halves = |lo: usize, hi: usize| {
        let mut w = [0u8; 8];
        w[..4].copy_from_slice(&s[lo..lo + 4]);
        w[4..].copy_from_slice(&s[hi..hi + 4]);
        u64::from_le_bytes(w)
    };
    // Assembled in registers and stored whole: a KeyId written four bytes
    // at a time stalls the first 16-byte read of it (a failed store
    // forward).
    let bytes = u128::from(hex_word(word(0))?)
        | u128::from(hex_word(halves(9, 14))?) << 32
        | u128::from(hex_word(halves(19, 24))?) << 64
        | u128::from(hex_word(word(28))?) << 96;
    Some(bytes.to_le_bytes())
}

/// Eight hexadecimal digits of either case, as the bytes of a little-endian
/// word, decoded to their four bytes (first digit pair first), or `None`
/// if any byte is not a digit.
///
/// Each byte is tested against the digit ranges by adding a constant that
/// carries into its high bit exactly when it is at least the range's
/// start; the bytes are checked to be ASCII first, so no sum carries into
/// the next byte.
#[inline]
fn hex_word(w: u64) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    if w & HIGH != 0 {
        return None;
    }
    let at_least = |w: u64, start: u8| w.wrapping_add(ONES * u64::from(0x80 - start)) & HIGH;
    let digit = at_least(w, b'0') & !at_least(w, b'9' + 1);
    let lower = w | (ONES * 0x20);
    let letter = at_least(lower, b'a') & !at_least(lower, b'f' + 1);
    if digit | letter != HIGH {
        return None;
    }
    // A digit's value is its low four bits; a letter's, those plus 9.
    let values = (w & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Byte k becomes value k << 4 | value k+1; the even bytes are kept and
    // packed together.
    let pairs = ((values << 4) | (values >> 8)) & 0x00ff_00ff_00ff_00ff;
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    // At most 32 bits are left.
    Some(((pairs | (pairs >> 16)) & 0xffff_ffff) as u32)
}

/// The 16 bytes of a well-formed multi-Region key id: `mrk-` and 32
/// lowercase hexadecimal digits.
fn multi_region_key_bytes(s: &str) -> Option<[u8; 16]> {
    let hex = s.strip_prefix("mrk-")?;
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let digit = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// An alias name: `alias/` followed by 1–250 characters of `[a-zA-Z0-9/_-]`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct AliasName(String);
string_id!(AliasName);

impl AliasName {
    /// Whether the name is in the `alias/aws/` namespace reserved for AWS
    /// managed keys.
    pub fn is_reserved(&self) -> bool {
        self.0.starts_with("alias/aws/")
    }

    /// The alias ARN in `region` of `account`.
    pub fn arn(&self, region: &Region, account: &AccountId) -> String {
        format!(
            "arn:{}:kms:{region}:{account}:{self}",
            AwsPartition::of_region(region)
        )
    }
}

impl FromStr for AliasName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        check_len("aliasName", s, 1, 256)?;
        check_chars("aliasName", s, "^[a-zA-Z0-9:/_-]+$", |c| {
            c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-')
        })?;
        match s.strip_prefix("alias/") {
            Some(rest)
                if !rest.is_empty()
                    && rest.len() <= 250
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-')) =>
            {
                Ok(AliasName(s.to_owned()))
            }
            None => Err(Error::from(AwsMessage::AliasPrefix)),
            Some(rest) if rest.contains(':') => {
                Err(Error::from(AwsMessage::AliasInvalidCharacters {
                    name: s.to_owned(),
                }))
            }
            Some(_) => Err(kms_err!(
                InvalidAliasName,
                "Alias '{s}' is not valid: it must begin with 'alias/' followed by 1 to 250 characters of a-z, A-Z, 0-9, '/', '_' and '-'"
            )),
        }
    }
}

/// A custom key store id. KMS makes them as `cks-` + 17 lowercase hex digits;
/// as input any 1–64 character string is accepted (the model has no pattern),
/// and an unknown one is `CustomKeyStoreNotFoundException`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct CustomKeyStoreId(String);
string_id!(CustomKeyStoreId);

impl CustomKeyStoreId {
    /// A new id from 9 random bytes: `cks-` + 17 hex digits.
    pub fn from_random_bytes(bytes: [u8; 9]) -> CustomKeyStoreId {
        let mut hex = String::with_capacity(21);
        hex.push_str("cks-");
        for b in bytes {
            hex.push_str(&format!("{b:02x}"));
        }
        hex.truncate(21);
        CustomKeyStoreId(hex)
    }
}

impl FromStr for CustomKeyStoreId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        check_len("customKeyStoreId", s, 1, 64)?;
        Ok(CustomKeyStoreId(s.to_owned()))
    }
}

/// A CloudHSM cluster id: `cluster-` + 11–16 characters of `[2-7a-zA-Z]`.
#[derive(Clone, Eq, PartialOrd, Ord, Debug)]
pub struct ClusterId(String);
string_id!(ClusterId);

inline_eq!(ClusterId);

fn parse_hsm_style(field: &str, prefix: &str, s: &str) -> Result<String> {
    let pattern = format!("{prefix}[2-7a-zA-Z]{{11,16}}");
    let ok = s
        .strip_prefix(prefix)
        .is_some_and(|rest| (11..=16).contains(&rest.len()) && rest.chars().all(is_hsm_alphabet));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(Error::invalid(
            field,
            Shown::Value(s.to_owned()),
            Constraint::Pattern(pattern.to_owned()),
        ))
    }
}

fn hsm_style_from_bytes(prefix: &str, bytes: [u8; 11]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut s = String::with_capacity(prefix.len() + 11);
    s.push_str(prefix);
    for b in bytes {
        s.push(ALPHABET[usize::from(b) % 32] as char);
    }
    s
}

impl ClusterId {
    /// A new id from 11 random bytes.
    pub fn from_random_bytes(bytes: [u8; 11]) -> ClusterId {
        ClusterId(hsm_style_from_bytes("cluster-", bytes))
    }
}

impl FromStr for ClusterId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        parse_hsm_style("cloudHsmClusterId", "cluster-", s).map(ClusterId)
    }
}

/// A CloudHSM HSM id: `hsm-` + 11–16 characters of `[2-7a-zA-Z]`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct HsmId(String);
string_id!(HsmId);

impl HsmId {
    /// A new id from 11 random bytes.
    pub fn from_random_bytes(bytes: [u8; 11]) -> HsmId {
        HsmId(hsm_style_from_bytes("hsm-", bytes))
    }
}

impl FromStr for HsmId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        parse_hsm_style("hsmId", "hsm-", s).map(HsmId)
    }
}

/// An external key id as the XKS proxy knows it: 1–128 characters of
/// `[a-zA-Z0-9-_.]`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct XksKeyId(String);
string_id!(XksKeyId);

impl FromStr for XksKeyId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        check_len("xksKeyId", s, 1, 128)?;
        check_chars("xksKeyId", s, "^[a-zA-Z0-9-_.]+$", |c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
        })?;
        Ok(XksKeyId(s.to_owned()))
    }
}

/// A parsed `KeyId` parameter: the four forms the API accepts.
///
/// ```
/// use kms_keystore::KeyIdentifier;
/// let k: KeyIdentifier = "alias/app".parse().unwrap();
/// assert!(matches!(k, KeyIdentifier::AliasName(_)));
/// let k: KeyIdentifier = "1234abcd-12ab-34cd-56ef-1234567890ab".parse().unwrap();
/// assert!(matches!(k, KeyIdentifier::KeyId(_)));
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum KeyIdentifier {
    /// `1234abcd-12ab-34cd-56ef-1234567890ab`
    KeyId(KeyId),
    /// `arn:aws:kms:us-west-2:111122223333:key/1234abcd-…`
    KeyArn {
        /// The ARN's partition.
        partition: AwsPartition,
        /// The ARN's Region.
        region: String,
        /// The ARN's account.
        account: String,
        /// The key id.
        key_id: KeyId,
    },
    /// `alias/ExampleAlias`
    AliasName(AliasName),
    /// `arn:aws:kms:us-west-2:111122223333:alias/ExampleAlias`
    AliasArn {
        /// The ARN's partition.
        partition: AwsPartition,
        /// The ARN's Region.
        region: String,
        /// The ARN's account.
        account: String,
        /// The alias name.
        alias: AliasName,
    },
}

impl FromStr for KeyIdentifier {
    type Err = Error;
    /// Parses a key id, key ARN, alias name or alias ARN. A string longer than
    /// 2048 characters or empty is `ValidationException`; a malformed ARN is
    /// `InvalidArnException`; anything else unrecognised is `NotFoundException`.
    fn from_str(s: &str) -> Result<Self> {
        check_len("keyId", s, 1, 2048)?;
        if let Some(rest) = s.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [partition, service, region, account, resource] = parts[..] else {
                return Err(kms_err!(InvalidArn, "ARN '{s}' is not a valid KMS ARN"));
            };
            let Ok(partition) = partition.parse::<AwsPartition>() else {
                return Err(kms_err!(InvalidArn, "ARN '{s}' is not a valid KMS ARN"));
            };
            if service != "kms"
                || region.is_empty()
                || account.len() != 12
                || !account.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(kms_err!(InvalidArn, "ARN '{s}' is not a valid KMS ARN"));
            }
            if let Some(id) = resource.strip_prefix("key/") {
                let key_id = id
                    .parse()
                    .map_err(|_| kms_err!(InvalidArn, "ARN '{s}' does not name a valid key id"))?;
                return Ok(KeyIdentifier::KeyArn {
                    partition,
                    region: region.to_owned(),
                    account: account.to_owned(),
                    key_id,
                });
            }
            if resource.starts_with("alias/") {
                let alias = resource
                    .parse()
                    .map_err(|_| kms_err!(InvalidArn, "ARN '{s}' does not name a valid alias"))?;
                return Ok(KeyIdentifier::AliasArn {
                    partition,
                    region: region.to_owned(),
                    account: account.to_owned(),
                    alias,
                });
            }
            return Err(kms_err!(InvalidArn, "ARN '{s}' is not a key or alias ARN"));
        }
        if s.starts_with("alias/") {
            return s
                .parse()
                .map(KeyIdentifier::AliasName)
                .map_err(|_| kms_err!(NotFound, "Alias '{s}' is not found."));
        }
        s.parse().map(KeyIdentifier::KeyId)
    }
}

impl fmt::Display for KeyIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyIdentifier::KeyId(id) => write!(f, "{id}"),
            KeyIdentifier::KeyArn {
                partition,
                region,
                account,
                key_id,
            } => write!(f, "arn:{partition}:kms:{region}:{account}:key/{key_id}"),
            KeyIdentifier::AliasName(a) => write!(f, "{a}"),
            KeyIdentifier::AliasArn {
                partition,
                region,
                account,
                alias,
            } => write!(f, "arn:{partition}:kms:{region}:{account}:{alias}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_answers_as_slice_equality_for_every_length_and_difference() {
        for len in 0..=80usize {
            let a: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "len {len}");
            // A difference at every position is found.
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b), "len {len}, byte {at}");
            }
            // Another length never matches, even as a prefix.
            let mut longer = a.clone();
            longer.push(0);
            assert!(!same_bytes(&a, &longer), "len {len}");
            assert!(!same_bytes(&longer, &a), "len {len}");
        }
        let (one, two) = (
            AccountId::new_unchecked("111122223333"),
            AccountId::new_unchecked("111122223334"),
        );
        assert_eq!(one, AccountId::new_unchecked("111122223333"));
        assert_ne!(one, two);
        let cluster = |s: &str| s.parse::<ClusterId>().ok();
        assert!(cluster("cluster-234567abcde").is_some());
        assert_eq!(
            cluster("cluster-234567abcde"),
            cluster("cluster-234567abcde")
        );
        assert_ne!(
            cluster("cluster-234567abcde"),
            cluster("cluster-234567abcdf")
        );
    }

    #[test]
    fn the_uuid_parser_accepts_and_refuses_exactly_what_uuids_own_does() {
        let ids = [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "1234ABCD-12AB-34CD-56EF-1234567890AB",
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-FFFF-ffff-FFFF-ffffffffffff",
            "9aBc0De1-f234-5678-9abc-DEF012345678",
        ];
        for id in ids {
            let ours = hyphenated_uuid_bytes(id).expect(id);
            assert_eq!(&ours, uuid::Uuid::try_parse(id).unwrap().as_bytes(), "{id}");
            // Every byte of every position, one at a time: the same verdict
            // and, where both accept, the same bytes.
            for at in 0..id.len() {
                for b in 0..=u8::MAX {
                    let mut bytes = id.as_bytes().to_vec();
                    bytes[at] = b;
                    let Ok(s) = std::str::from_utf8(&bytes) else {
                        continue;
                    };
                    let theirs = (s.len() == 36)
                        .then(|| uuid::Uuid::try_parse(s).ok())
                        .flatten()
                        .map(|u| *u.as_bytes());
                    assert_eq!(hyphenated_uuid_bytes(s), theirs, "{s:?}");
                }
            }
        }
        for s in [
            "",
            "1234abcd12ab34cd56ef1234567890ab",
            "{1234abcd-12ab-34cd-56ef-1234567890ab}",
        ] {
            assert_eq!(hyphenated_uuid_bytes(s), None, "{s:?}");
        }
        assert_eq!(
            hyphenated_uuid_bytes("1234abcd-12ab-34cd-56ef-1234567890éa"),
            None
        );
        // A two-byte character in place of any two adjacent bytes.
        let id = ids[0].as_bytes();
        for at in 0..id.len() - 1 {
            let mut bytes = id.to_vec();
            bytes.splice(at..at + 2, "é".bytes());
            let s = std::str::from_utf8(&bytes).unwrap();
            assert_eq!(hyphenated_uuid_bytes(s), None, "{s:?}");
        }
    }

    #[test]
    fn the_uuid_parser_agrees_with_uuids_own_on_strings_of_boundary_bytes() {
        // The bytes either side of each digit range, the hyphen and the
        // last ASCII byte, many at a time at every position.
        const BYTES: &[u8] = b"/09:@AFG`afg-\x7f";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let base = b"1234abcd-12ab-34cd-56ef-1234567890ab";
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..200_000 {
            let mut bytes = *base;
            for _ in 0..next() % 4 {
                bytes[next() % 36] = BYTES[next() % BYTES.len()];
            }
            let s = std::str::from_utf8(&bytes).unwrap();
            let theirs = uuid::Uuid::try_parse(s).ok().map(|u| *u.as_bytes());
            assert_eq!(hyphenated_uuid_bytes(s), theirs, "{s:?}");
            if theirs.is_some() {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        assert!(
            accepted > 10_000 && refused > 10_000,
            "{accepted} {refused}"
        );
    }

    #[test]
    fn multi_region_key_ids_round_trip_and_only_lowercase_hex_parses() {
        let s = "mrk-1234abcd12ab34cd56ef1234567890ab";
        let id: KeyId = s.parse().unwrap();
        assert!(id.is_multi_region());
        assert_eq!(id.to_string(), s);
        assert_eq!(KeyId::multi_region_from_bytes(*id.as_bytes()), id);
        assert_ne!(KeyId::from_bytes(*id.as_bytes()), id);
        for bad in [
            "mrk-1234ABCD12ab34cd56ef1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890a",
            "mrk-1234abcd12ab34cd56ef1234567890abc",
            "mrk-fake-key-id",
        ] {
            assert_eq!(
                bad.parse::<KeyId>().unwrap_err().code(),
                "NotFoundException"
            );
        }
        let arn = format!("arn:aws:kms:eu-west-1:111122223333:key/{s}");
        assert!(matches!(
            arn.parse::<KeyIdentifier>().unwrap(),
            KeyIdentifier::KeyArn { key_id, .. } if key_id == id
        ));
    }

    #[test]
    fn key_ids_parse_only_uuids() {
        let id: KeyId = "1234abcd-12ab-34cd-56ef-1234567890ab".parse().unwrap();
        assert_eq!(id.to_string(), "1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(
            "nope".parse::<KeyId>().unwrap_err().code(),
            "NotFoundException"
        );
        assert_eq!(
            "1234abcd12ab34cd56ef1234567890ab"
                .parse::<KeyId>()
                .unwrap_err()
                .code(),
            "NotFoundException"
        );
    }

    #[test]
    fn key_identifier_parses_all_four_forms() {
        let arn = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert!(matches!(
            arn.parse::<KeyIdentifier>().unwrap(),
            KeyIdentifier::KeyArn { .. }
        ));
        let aarn = "arn:aws:kms:us-west-2:111122223333:alias/app";
        assert!(matches!(
            aarn.parse::<KeyIdentifier>().unwrap(),
            KeyIdentifier::AliasArn { .. }
        ));
        assert_eq!(arn.parse::<KeyIdentifier>().unwrap().to_string(), arn);
        assert_eq!(aarn.parse::<KeyIdentifier>().unwrap().to_string(), aarn);
    }

    #[test]
    fn malformed_arns_are_invalid_arn() {
        for bad in [
            "arn:aws:kms:us-west-2:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:s3:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-west-2:111122223333:key/nope",
            "arn:aws:kms:us-west-2:111122223333:grant/x",
            "arn:aws",
        ] {
            assert_eq!(
                bad.parse::<KeyIdentifier>().unwrap_err().code(),
                "InvalidArnException",
                "{bad}"
            );
        }
    }

    #[test]
    fn key_identifier_length_is_bounded() {
        assert_eq!(
            "".parse::<KeyIdentifier>().unwrap_err().code(),
            "ValidationException"
        );
        let long = "a".repeat(2049);
        assert_eq!(
            long.parse::<KeyIdentifier>().unwrap_err().code(),
            "ValidationException"
        );
    }

    #[test]
    fn length_limits_count_characters_not_bytes() {
        // 2048 two-byte characters (4096 bytes) are within the limit.
        assert!(check_len("keyId", &"é".repeat(2048), 1, 2048).is_ok());
        assert_eq!(
            check_len("keyId", &"é".repeat(2049), 1, 2048)
                .unwrap_err()
                .code(),
            "ValidationException"
        );
        // One four-byte character is one character, not four.
        assert_eq!(
            check_len("x", "😀", 2, 10).unwrap_err().code(),
            "ValidationException"
        );
        assert!(check_len("x", "😀a", 2, 10).is_ok());
    }

    #[test]
    fn alias_names_follow_the_model() {
        assert!("alias/app-1/x_y".parse::<AliasName>().is_ok());
        // AWS: no `alias/` prefix is a ValidationException with its own text.
        let err = "app".parse::<AliasName>().unwrap_err();
        assert_eq!(err.code(), "ValidationException");
        assert_eq!(err.aws_message(), Some(&AwsMessage::AliasPrefix));
        assert_eq!(
            "alias/".parse::<AliasName>().unwrap_err().code(),
            "InvalidAliasNameException"
        );
        assert_eq!(
            "alias/a b".parse::<AliasName>().unwrap_err().code(),
            "ValidationException"
        );
        assert!(
            format!("alias/{}", "a".repeat(250))
                .parse::<AliasName>()
                .is_ok()
        );
        assert!(
            format!("alias/{}", "a".repeat(251))
                .parse::<AliasName>()
                .is_err()
        );
        assert!("alias/aws/ebs".parse::<AliasName>().unwrap().is_reserved());
    }

    #[test]
    fn cluster_and_hsm_ids_follow_the_pattern() {
        assert!(
            "cluster-1a23b4cdefg".parse::<ClusterId>().is_err(),
            "1 is not in [2-7a-zA-Z]"
        );
        assert!("cluster-2a23b4cdefg".parse::<ClusterId>().is_ok());
        assert!("cluster-abc".parse::<ClusterId>().is_err());
        assert!("hsm-abcdefghijk".parse::<HsmId>().is_ok());
        assert!("hsm-abcdefghijklmnopq".parse::<HsmId>().is_err());
        let id = ClusterId::from_random_bytes([255; 11]);
        assert!(id.as_str().parse::<ClusterId>().is_ok());
        let id = HsmId::from_random_bytes([7; 11]);
        assert!(id.as_str().parse::<HsmId>().is_ok());
    }

    #[test]
    fn custom_key_store_ids_are_cks_and_17_hex_digits() {
        let id = CustomKeyStoreId::from_random_bytes([0xab; 9]);
        assert_eq!(id.as_str().len(), 21);
        assert!(id.as_str().starts_with("cks-"));
        assert!(id.as_str()[4..].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn xks_key_ids_follow_the_pattern() {
        assert!("bb8562717f809024".parse::<XksKeyId>().is_ok());
        assert!("a.b-c_d".parse::<XksKeyId>().is_ok());
        assert!("a/b".parse::<XksKeyId>().is_err());
        assert!("".parse::<XksKeyId>().is_err());
        assert!("x".repeat(129).parse::<XksKeyId>().is_err());
    }

    #[test]
    fn account_and_region_are_validated() {
        assert!("111122223333".parse::<AccountId>().is_ok());
        assert!("11112222333".parse::<AccountId>().is_err());
        assert!("us-west-2".parse::<Region>().is_ok());
        assert!("us-gov-west-1".parse::<Region>().is_ok());
        assert!("uswest2".parse::<Region>().is_err());
    }
}
