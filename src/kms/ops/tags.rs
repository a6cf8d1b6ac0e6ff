//! The user-set metadata of a key: TagResource, UntagResource,
//! ListResourceTags and UpdateKeyDescription.
//!
//! Each mutation checks the whole request and the key-state table under the
//! key's write lock, then changes the key: a call that fails changes nothing
//! (a TagResource with one bad tag adds none of them).

use crate::error::{AwsMessage, Constraint, Error, Result, Shown, Violation, kms_err};
use crate::key::Tag;
use crate::key::state::KeyOperation;

use crate::kms::Kms;
use crate::kms::shapes::manage::{
    ListResourceTagsRequest, ListResourceTagsResponse, TagResourceRequest, UntagResourceRequest,
    UpdateKeyDescriptionRequest,
};
use crate::kms::support::access::{Action, Facts};
use crate::kms::support::paging::{check_limit, decode_marker, encode_marker};
use crate::kms::support::validate::{
    MAX_TAGS, check_description, is_reserved_tag_key, validate_tags,
};

/// ListResourceTags: the default and the largest page.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 50;

/// Checks the tag keys of an UntagResource request: 1–128 characters, all
/// reported at once (`ValidationException` at `tagKeys.<n>.member`), then
/// not in the reserved `aws:` namespace in any case (`TagException`).
fn validate_tag_keys(keys: &[String]) -> Result<()> {
    let violations: Vec<Violation> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            let n = k.chars().count();
            let constraint = match n {
                0 => Constraint::MinLength(1),
                129.. => Constraint::MaxLength(128),
                _ => return None,
            };
            Some(Violation::new(
                format!("tagKeys.{}.member", i + 1),
                Shown::Value(k.clone()),
                constraint,
            ))
        })
        .collect();
    if !violations.is_empty() {
        return Err(Error::from(AwsMessage::Validation(violations)));
    }
    if keys.iter().any(|k| is_reserved_tag_key(k)) {
        return Err(Error::from(AwsMessage::ReservedTagKey)
            .with_hint("Only AWS can remove tags in the aws: namespace."));
    }
    Ok(())
}

impl Kms {
    /// TagResource: adds tags to a key (key id or key ARN), or replaces the
    /// value of a tag key the key already has.
    ///
    /// Every tag is checked before any is added: a key of 1–128 and a value
    /// of 0–256 characters, no `aws:` prefix, no tag key twice in the request,
    /// at most 50 in the request (`TagException` for each). If the key would
    /// end up with more than 50 tags the call is `LimitExceededException`. A
    /// key pending deletion cannot be tagged (`KMSInvalidStateException`).
    pub fn tag_resource(&self, req: TagResourceRequest) -> Result<()> {
        let cx = self.begin();
        let inner = &*self.inner;
        validate_tags(&req.tags)?;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(
            &cx,
            &entry,
            Action::TagResource,
            &Facts {
                request_tags: Some(&req.tags),
                ..Facts::default()
            },
        )?;
        inner.with_key_mut(&entry, KeyOperation::TagResource, |m| {
            let added = req
                .tags
                .iter()
                .filter(|t| !m.tags.iter().any(|have| have.tag_key == t.tag_key))
                .count();
            if m.tags.len() + added > MAX_TAGS {
                return Err(kms_err!(
                    LimitExceeded,
                    "Key {} has {} tags; adding {added} would exceed the limit of {MAX_TAGS}.",
                    entry.arn,
                    m.tags.len()
                )
                .with_hint("Remove tags (UntagResource) first."));
            }
            for t in req.tags {
                match m.tags.iter_mut().find(|have| have.tag_key == t.tag_key) {
                    Some(have) => have.tag_value = t.tag_value,
                    None => m.tags.push(t),
                }
            }
            Ok(())
        })
    }

    /// UntagResource: removes tags by tag key from a key (key id or key ARN).
    /// A tag key the key does not have is ignored. Tag keys of 1–128
    /// characters outside the `aws:` namespace (`TagException`); a key pending
    /// deletion is `KMSInvalidStateException`.
    pub fn untag_resource(&self, req: UntagResourceRequest) -> Result<()> {
        let cx = self.begin();
        let inner = &*self.inner;
        validate_tag_keys(&req.tag_keys)?;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(
            &cx,
            &entry,
            Action::UntagResource,
            &Facts {
                tag_keys: Some(&req.tag_keys),
                ..Facts::default()
            },
        )?;
        inner.with_key_mut(&entry, KeyOperation::UntagResource, |m| {
            m.tags.retain(|t| !req.tag_keys.contains(&t.tag_key));
            Ok(())
        })
    }

    /// ListResourceTags: the tags of a key (key id or key ARN), in the order
    /// their tag keys were first added, `Limit` (1–50, default 50) at a time;
    /// `NextMarker` continues. Works in every key state.
    pub fn list_resource_tags(
        &self,
        req: ListResourceTagsRequest,
    ) -> Result<ListResourceTagsResponse> {
        let cx = self.begin();
        let inner = &*self.inner;
        let limit = check_limit(req.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let from = match &req.marker {
            None => 0,
            Some(m) => decode_marker(m)?,
        };
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(&cx, &entry, Action::ListResourceTags, &Facts::default())?;
        inner.check_key(&entry, KeyOperation::ListResourceTags)?;
        inner.read_key(&entry, |m| {
            let from = usize::try_from(from).unwrap_or(usize::MAX);
            let tags: Vec<Tag> = m
                .tags
                .iter()
                .skip(from)
                .take(limit as usize)
                .cloned()
                .collect();
            let end = from.saturating_add(tags.len());
            let next = (end < m.tags.len()).then(|| encode_marker(end as u64));
            Ok(ListResourceTagsResponse {
                tags,
                truncated: next.is_some(),
                next_marker: next,
            })
        })
    }

    /// UpdateKeyDescription: replaces a key's description (0–8192
    /// characters, else `ValidationException`); DescribeKey shows it. Key id
    /// or key ARN; a key pending deletion is `KMSInvalidStateException`.
    pub fn update_key_description(&self, req: UpdateKeyDescriptionRequest) -> Result<()> {
        let cx = self.begin();
        let inner = &*self.inner;
        check_description(&req.description)?;
        let entry = inner.resolve(&cx, &req.key_id, false)?;
        inner.authorize(&cx, &entry, Action::UpdateKeyDescription, &Facts::default())?;
        inner.with_key_mut(&entry, KeyOperation::UpdateKeyDescription, |m| {
            m.description = req.description;
            Ok(())
        })
    }
}
