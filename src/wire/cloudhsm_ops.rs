//! The AWS CloudHSM v2 operation table (`BaldrApiService.<Operation>`): the
//! operations a KMS user needs against the modelled clusters.
//!
//! - DescribeClusters, with the `clusterIds`, `states` and `vpcIds`
//!   filters; every match in one page (no `NextToken`).
//! - CreateHsm and DeleteHsm, which take effect at once (the HSM is ACTIVE,
//!   or gone, when the call returns), so an SDK can break a cluster on
//!   purpose and repair it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Dispatcher, Input, Operation, input, operations, output};
use crate::error::{Error, Result, Violation, kms_err};
use crate::ids::{ClusterId, HsmId};
use crate::store::cloudhsm::{ClusterState, HsmDescription};

/// Every cloudhsmv2 operation this crate implements, in name order.
pub(super) const OPERATIONS: &[Operation] = operations![
    "CreateHsm" ["ClusterId", "AvailabilityZone"] => create_hsm,
    "DeleteHsm" ["ClusterId"] => delete_hsm,
    "DescribeClusters" [] => describe_clusters,
];

/// DescribeClusters input.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct DescribeClustersInput {
    /// `clusterIds`, `states`, `vpcIds` → values.
    filters: BTreeMap<String, Vec<String>>,
    /// 1–25; accepted (every match is returned in one page).
    max_results: Option<u32>,
    /// Accepted and ignored: there is never a next page.
    #[allow(
        dead_code,
        reason = "accepted for the API's shape; one page is returned"
    )]
    next_token: Option<String>,
}

fn describe_clusters(w: &Dispatcher, v: Input) -> Result<Value> {
    let req: DescribeClustersInput = input(v)?;
    Error::check_all(
        req.max_results
            .and_then(|n| Violation::range("maxResults", i64::from(n), 1, 25)),
    )?;
    let mut ids: Option<Vec<ClusterId>> = None;
    let mut states: Option<Vec<ClusterState>> = None;
    let mut vpcs: Option<Vec<String>> = None;
    for (name, values) in req.filters {
        match name.as_str() {
            "clusterIds" => {
                ids = Some(values.iter().map(|s| s.parse()).collect::<Result<_>>()?);
            }
            "states" => {
                states = Some(values.iter().map(|s| s.parse()).collect::<Result<_>>()?);
            }
            "vpcIds" => vpcs = Some(values),
            other => {
                return Err(kms_err!(
                    CloudHsmInvalidRequest,
                    "Unknown filter '{other}'. Use clusterIds, states or vpcIds."
                ));
            }
        }
    }
    let mut out = w.cloudhsm().describe_clusters(ids.as_deref());
    out.clusters.retain(|c| {
        states.as_ref().is_none_or(|s| s.contains(&c.state))
            && vpcs.as_ref().is_none_or(|v| v.contains(&c.vpc_id))
    });
    output(Ok(out))
}

/// CreateHsm input.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CreateHsmInput {
    cluster_id: String,
    availability_zone: String,
    /// Accepted; the model assigns the next free address of the subnet.
    #[allow(
        dead_code,
        reason = "accepted for the API's shape; addresses are assigned"
    )]
    ip_address: Option<String>,
}

/// The HSM `hsm` of `cluster`, as DescribeClusters shows it.
fn find_hsm(
    w: &Dispatcher,
    cluster: &ClusterId,
    matches: impl Fn(&HsmDescription) -> bool,
) -> Option<HsmDescription> {
    w.cloudhsm()
        .describe_clusters(Some(std::slice::from_ref(cluster)))
        .clusters
        .into_iter()
        .flat_map(|c| c.hsms)
        .find(|h| matches(h))
}

fn create_hsm(w: &Dispatcher, v: Input) -> Result<Value> {
    let req: CreateHsmInput = input(v)?;
    let cluster: ClusterId = req.cluster_id.parse()?;
    let hsm_id = w.cloudhsm().create_hsm(&cluster, &req.availability_zone)?;
    let hsm = find_hsm(w, &cluster, |h| h.hsm_id == hsm_id)
        .ok_or_else(|| Error::internal("the new HSM is not described"))?;
    Ok(json!({ "Hsm": hsm_json(&hsm)? }))
}

/// An `Hsm` member: the description plus `HsmType`.
fn hsm_json(hsm: &HsmDescription) -> Result<Value> {
    let mut value = output(Ok(hsm))?;
    if let Value::Object(map) = &mut value {
        map.insert(
            "HsmType".to_owned(),
            Value::String(crate::store::cloudhsm::HSM_TYPE.to_owned()),
        );
    }
    Ok(value)
}

/// DeleteHsm input: the HSM by id, ENI id or ENI address.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct DeleteHsmInput {
    cluster_id: String,
    hsm_id: Option<String>,
    eni_id: Option<String>,
    eni_ip: Option<String>,
}

fn delete_hsm(w: &Dispatcher, v: Input) -> Result<Value> {
    let req: DeleteHsmInput = input(v)?;
    let cluster: ClusterId = req.cluster_id.parse()?;
    let hsm_id: Option<HsmId> = req.hsm_id.as_deref().map(str::parse).transpose()?;
    if hsm_id.is_none() && req.eni_id.is_none() && req.eni_ip.is_none() {
        return Err(kms_err!(
            CloudHsmInvalidRequest,
            "Specify the HSM to delete by HsmId, EniId or EniIp."
        ));
    }
    let hsm = find_hsm(w, &cluster, |h| {
        hsm_id.as_ref().is_none_or(|id| &h.hsm_id == id)
            && req.eni_id.as_ref().is_none_or(|id| &h.eni_id == id)
            && req.eni_ip.as_ref().is_none_or(|ip| &h.eni_ip == ip)
    });
    let Some(hsm) = hsm else {
        let known = !w
            .cloudhsm()
            .describe_clusters(Some(std::slice::from_ref(&cluster)))
            .clusters
            .is_empty();
        if !known {
            return Err(kms_err!(
                CloudHsmResourceNotFound,
                "Cluster {cluster} does not exist."
            ));
        }
        return Err(kms_err!(
            CloudHsmResourceNotFound,
            "Cluster {cluster} has no such HSM. Use DescribeClusters to find its HSMs."
        ));
    };
    w.cloudhsm().delete_hsm(&cluster, &hsm.hsm_id)?;
    Ok(json!({ "HsmId": hsm.hsm_id }))
}
