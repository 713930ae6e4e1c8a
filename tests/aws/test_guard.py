"""The read-only guard and the identity of mitigation tasks."""

from __future__ import annotations

import re

import botocore.session
import pytest

from iot_defender_tui.aws.guard import (
    MUTATING_OPERATIONS,
    ReadOnlyError,
    ensure_writable,
    is_mutating,
    mitigation_request_identity,
)

MUTATING_PREFIXES = (
    "Create", "Update", "Delete", "Start", "Cancel", "Set", "Add", "Remove", "Attach", "Detach", "Register",
    "Replace", "Transfer", "Accept", "Reject",
)  # fmt: skip

# IoT operations that change an account but that the app never sends: fleet provisioning, jobs, rules,
# Rules Detect (security profiles and its mitigation tasks), packages, commands… A new mutating operation
# in botocore's model fails test_every_mutating_iot_operation_is_classified until it is put in one list.
NOT_USED_BY_THE_APP = frozenset(
    """
    AcceptCertificateTransfer AddThingToBillingGroup AttachPolicy AttachPrincipalPolicy
    AttachSecurityProfile AttachThingPrincipal CancelCertificateTransfer
    CancelDetectMitigationActionsTask CancelJob CancelJobExecution CreateAuthorizer CreateBillingGroup
    CreateCertificateFromCsr CreateCertificateProvider CreateCommand CreateCustomMetric CreateDimension
    CreateDomainConfiguration CreateDynamicThingGroup CreateFleetMetric CreateJob CreateJobTemplate
    CreateKeysAndCertificate CreateOTAUpdate CreatePackage CreatePackageVersion CreatePolicy
    CreateProvisioningClaim CreateProvisioningTemplate CreateProvisioningTemplateVersion CreateRoleAlias
    CreateSecurityProfile CreateStream CreateThing CreateThingGroup CreateThingType CreateTopicRule
    CreateTopicRuleDestination DeleteAuthorizer DeleteBillingGroup DeleteCACertificate DeleteCertificate
    DeleteCertificateProvider DeleteCommand DeleteCommandExecution DeleteCustomMetric DeleteDimension
    DeleteDomainConfiguration DeleteDynamicThingGroup DeleteFleetMetric DeleteJob DeleteJobExecution
    DeleteJobTemplate DeleteOTAUpdate DeletePackage DeletePackageVersion DeletePolicy
    DeleteProvisioningTemplate DeleteProvisioningTemplateVersion DeleteRegistrationCode DeleteRoleAlias
    DeleteSecurityProfile DeleteStream DeleteThing DeleteThingGroup DeleteThingType DeleteTopicRule
    DeleteTopicRuleDestination DetachPolicy DetachPrincipalPolicy DetachSecurityProfile
    DetachThingPrincipal RegisterCACertificate RegisterCertificate RegisterCertificateWithoutCA
    RegisterThing RejectCertificateTransfer RemoveThingFromBillingGroup ReplaceTopicRule
    SetDefaultAuthorizer StartDetectMitigationActionsTask StartThingRegistrationTask TransferCertificate
    UpdateAuthorizer UpdateBillingGroup UpdateCertificateProvider UpdateCommand UpdateCustomMetric
    UpdateDimension UpdateDomainConfiguration UpdateDynamicThingGroup UpdateEncryptionConfiguration
    UpdateEventConfigurations UpdateFleetMetric UpdateIndexingConfiguration UpdateJob UpdatePackage
    UpdatePackageConfiguration UpdatePackageVersion UpdateProvisioningTemplate UpdateRoleAlias
    UpdateSecurityProfile UpdateStream UpdateThing UpdateThingGroup UpdateThingGroupsForThing
    UpdateThingType UpdateTopicRuleDestination
    """.split()  # noqa: SIM905 -- 108 names read better as words than as a 108-line list
)


def _operations(service: str) -> set[str]:
    return set(botocore.session.get_session().get_service_model(service).operation_names)


def test_every_mutating_iot_operation_is_classified():
    mutating = {op for op in _operations("iot") if op.startswith(MUTATING_PREFIXES)}
    unclassified = mutating - MUTATING_OPERATIONS - NOT_USED_BY_THE_APP
    assert not unclassified, f"decide whether the app sends these: {sorted(unclassified)}"
    assert not MUTATING_OPERATIONS & NOT_USED_BY_THE_APP


def test_every_audit_mitigation_and_logging_write_is_guarded():
    # The heart of the app: every audit, suppression, mitigation and logging write (Rules Detect's
    # mitigation tasks are another feature).
    topics = ("Audit", "MitigationAction", "Logging")
    writes = {
        op
        for op in _operations("iot")
        if op.startswith(MUTATING_PREFIXES) and any(t in op for t in topics) and "Detect" not in op
    }
    assert len(writes) >= 19
    assert writes <= MUTATING_OPERATIONS


def test_listed_operations_exist_in_botocore():
    known = _operations("iot") | _operations("iam") | _operations("sns")
    assert MUTATING_OPERATIONS - known == set(), "a misspelt name would guard nothing"
    required = {"UpdateCertificate", "UpdateCACertificate", "CreatePolicyVersion", "SetDefaultPolicyVersion"}
    required |= {"AddThingToThingGroup", "CreateRole", "PutRolePolicy", "Publish"}
    assert required <= MUTATING_OPERATIONS


@pytest.mark.parametrize("operation", sorted(MUTATING_OPERATIONS))
def test_read_only_refuses_every_mutating_operation(operation):
    with pytest.raises(ReadOnlyError) as raised:
        ensure_writable(operation, read_only=True)
    assert raised.value.operation == operation
    assert operation in str(raised.value) and "read-only" in str(raised.value)
    ensure_writable(operation, read_only=False)  # writable: no objection


def test_an_unlisted_write_is_refused_too():
    # Forgetting to list an operation must not make it writable in read-only mode.
    for operation in ("DeleteThing", "TagResource", "AttachPolicy", "Subscribe"):
        assert operation not in MUTATING_OPERATIONS
        with pytest.raises(ReadOnlyError):
            ensure_writable(operation, read_only=True)


def test_reads_pass_read_only():
    # The client refuses to send anything is_mutating() through its read path, so no read may look like one.
    for service in ("iot", "iam", "sns", "sts"):
        for operation in _operations(service):
            if operation.startswith(("Describe", "List", "Get")):
                assert not is_mutating(operation), operation
                ensure_writable(operation, read_only=True)


TASK_ID = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
TOKEN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAPPING = {"DEVICE_CERTIFICATE_SHARED_CHECK": ["Deactivate", "Notify"]}


def test_the_same_request_gives_the_same_task():
    first = mitigation_request_identity({"findingIds": ["f1", "f2"]}, MAPPING)
    again = mitigation_request_identity(
        {"findingIds": ["f1", "f2"]}, {k: list(v) for k, v in MAPPING.items()}
    )
    assert first == again
    task_id, token = first
    assert TASK_ID.match(task_id) and task_id.startswith("idt-") and len(task_id) == 4 + 24
    assert TOKEN.match(token) and len(token) == 64
    assert token.startswith(task_id.removeprefix("idt-"))


def test_finding_order_does_not_matter_but_action_order_does():
    base = mitigation_request_identity({"findingIds": ["f1", "f2"]}, MAPPING)
    assert mitigation_request_identity({"findingIds": ["f2", "f1"]}, MAPPING) == base
    reordered = {"DEVICE_CERTIFICATE_SHARED_CHECK": ["Notify", "Deactivate"]}
    assert mitigation_request_identity({"findingIds": ["f1", "f2"]}, reordered) != base


@pytest.mark.parametrize(
    ("target", "mapping"),
    [
        ({"findingIds": ["f1"]}, MAPPING),
        ({"findingIds": ["f1", "f2", "f3"]}, MAPPING),
        ({"auditTaskId": "a1"}, MAPPING),
        (
            {"auditTaskId": "a1", "auditCheckToReasonCodeFilter": {"DEVICE_CERTIFICATE_SHARED_CHECK": ["X"]}},
            MAPPING,
        ),
        ({"findingIds": ["f1", "f2"]}, {"DEVICE_CERTIFICATE_SHARED_CHECK": ["Deactivate"]}),
    ],
)
def test_a_different_request_gives_a_different_task(target, mapping):
    base_id, base_token = mitigation_request_identity({"findingIds": ["f1", "f2"]}, MAPPING)
    task_id, token = mitigation_request_identity(target, mapping)
    assert task_id != base_id and token != base_token


def test_an_intentional_rerun_gets_a_new_task():
    base = mitigation_request_identity({"auditTaskId": "a1"}, MAPPING)
    assert mitigation_request_identity({"auditTaskId": "a1"}, MAPPING, attempt=0) == base
    rerun = mitigation_request_identity({"auditTaskId": "a1"}, MAPPING, attempt=1)
    assert rerun != base and TASK_ID.match(rerun[0]) and TOKEN.match(rerun[1])
