"""Create/Describe/Update/Delete/ListMitigationAction(s)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from ..errors import InvalidRequest, LimitExceeded, ResourceAlreadyExists, ResourceNotFound
from ..state import MitigationAction, now
from ..wire import epoch
from .base import DefenderResponse, page
from .validate import require_name, require_role_arn

MAX_ACTIONS = 100  # per account and region (Device Defender quotas)
LOG_LEVELS = ("DEBUG", "INFO", "ERROR", "WARN", "DISABLED")

# actionParams member -> the action type it makes
PARAM_TYPES = {
    "updateDeviceCertificateParams": "UPDATE_DEVICE_CERTIFICATE",
    "updateCACertificateParams": "UPDATE_CA_CERTIFICATE",
    "addThingsToThingGroupParams": "ADD_THINGS_TO_THING_GROUP",
    "replaceDefaultPolicyVersionParams": "REPLACE_DEFAULT_POLICY_VERSION",
    "enableIoTLoggingParams": "ENABLE_IOT_LOGGING",
    "publishFindingToSnsParams": "PUBLISH_FINDING_TO_SNS",
}
THING_GROUP_NAME = re.compile(r"^[a-zA-Z0-9:_-]{1,128}\Z")
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?\Z")


def validate_action_params(params: Any, account_id: str) -> tuple[str, dict[str, Any]]:
    """The action type `params` describes and the params as stored; InvalidRequest when they break
    AWS's rules (exactly one member, and that member's own constraints)."""
    if not isinstance(params, dict):
        raise InvalidRequest("actionParams is required.")
    present = [key for key, value in params.items() if value is not None]
    if len(present) != 1 or present[0] not in PARAM_TYPES:
        raise InvalidRequest(f"actionParams must contain exactly one of: {', '.join(PARAM_TYPES)}.")
    key = present[0]
    value = params[key] if isinstance(params[key], dict) else {}
    action_type = PARAM_TYPES[key]
    if action_type in ("UPDATE_DEVICE_CERTIFICATE", "UPDATE_CA_CERTIFICATE"):
        if value.get("action") != "DEACTIVATE":
            raise InvalidRequest(f"{key}.action must be DEACTIVATE.")
        stored: dict[str, Any] = {"action": "DEACTIVATE"}
    elif action_type == "ADD_THINGS_TO_THING_GROUP":
        names = value.get("thingGroupNames")
        if not isinstance(names, list) or not 1 <= len(names) <= 10:
            raise InvalidRequest(
                "addThingsToThingGroupParams.thingGroupNames must list 1 to 10 thing groups."
            )
        for name in names:
            if not isinstance(name, str) or not THING_GROUP_NAME.match(name):
                raise InvalidRequest(f"Invalid thing group name: {name!r}")
        stored = {"thingGroupNames": list(dict.fromkeys(names))}
        override = value.get("overrideDynamicGroups")
        if override is not None:
            if not isinstance(override, bool):
                raise InvalidRequest("addThingsToThingGroupParams.overrideDynamicGroups must be a boolean.")
            stored["overrideDynamicGroups"] = override
    elif action_type == "REPLACE_DEFAULT_POLICY_VERSION":
        if value.get("templateName") != "BLANK_POLICY":
            raise InvalidRequest("replaceDefaultPolicyVersionParams.templateName must be BLANK_POLICY.")
        stored = {"templateName": "BLANK_POLICY"}
    elif action_type == "ENABLE_IOT_LOGGING":
        role = value.get("roleArnForLogging")
        require_role_arn(role, account_id)
        level = value.get("logLevel")
        if level not in LOG_LEVELS:
            raise InvalidRequest(f"enableIoTLoggingParams.logLevel must be one of {', '.join(LOG_LEVELS)}.")
        if level == "DISABLED":
            raise InvalidRequest(
                "enableIoTLoggingParams.logLevel cannot be DISABLED: the action enables logging."
            )
        stored = {"roleArnForLogging": role, "logLevel": level}
    else:
        topic = value.get("topicArn")
        if not isinstance(topic, str) or not TOPIC_ARN.match(topic):
            raise InvalidRequest(
                f"publishFindingToSnsParams.topicArn is not a valid SNS topic ARN: {topic!r}"
            )
        stored = {"topicArn": topic}
    return action_type, {key: stored}


def _validate_tags(tags: Any) -> None:
    for tag in tags or []:
        key = tag.get("Key") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise InvalidRequest("Each tag needs a Key of 1 to 128 characters.")
        if len(tag.get("Value") or "") > 256:
            raise InvalidRequest(f"The value of tag {key} is longer than 256 characters.")


class MitigationActionsMixin(DefenderResponse):
    def _action(self, name: str) -> MitigationAction:
        action = self.state.actions.get(name)
        if action is None:
            raise ResourceNotFound(f"Mitigation action {name} does not exist.")
        return action

    def create_mitigation_action(self) -> str:
        name = require_name(self.args.get("actionName"), "actionName")
        role_arn = self.args.get("roleArn")
        require_role_arn(role_arn, self.current_account)
        action_type, params = validate_action_params(self.args.get("actionParams"), self.current_account)
        # Tags are checked as AWS does; moto's IoT keeps no tags, so nothing could read them back.
        _validate_tags(self.args.get("tags"))
        with self.state.lock:
            if name in self.state.actions:
                raise ResourceAlreadyExists(f"Mitigation action {name} already exists.")
            if len(self.state.actions) >= MAX_ACTIONS:
                raise LimitExceeded(f"An account may have at most {MAX_ACTIONS} mitigation actions.")
            created = now()
            action = MitigationAction(
                name=name,
                action_id=str(uuid.uuid4()),
                arn=f"arn:aws:iot:{self.region}:{self.current_account}:mitigationaction/{name}",
                role_arn=role_arn,
                action_type=action_type,
                params=params,
                created=created,
                modified=created,
            )
            self.state.actions[name] = action
        return self.reply({"actionArn": action.arn, "actionId": action.action_id})

    def describe_mitigation_action(self) -> str:
        with self.state.lock:
            action = self._action(self.args.get("actionName", ""))
            return self.reply(
                {
                    "actionName": action.name,
                    "actionType": action.action_type,
                    "actionArn": action.arn,
                    "actionId": action.action_id,
                    "roleArn": action.role_arn,
                    "actionParams": action.params,
                    "creationDate": epoch(action.created),
                    "lastModifiedDate": epoch(action.modified),
                }
            )

    def update_mitigation_action(self) -> str:
        role_arn = self.args.get("roleArn")
        if role_arn is not None:
            require_role_arn(role_arn, self.current_account)
        raw_params = self.args.get("actionParams")
        with self.state.lock:
            action = self._action(self.args.get("actionName", ""))
            params = None
            if raw_params is not None:
                action_type, params = validate_action_params(raw_params, self.current_account)
                if action_type != action.action_type:
                    raise InvalidRequest(
                        f"Mitigation action {action.name} is {action.action_type}; its type cannot be "
                        f"changed to {action_type}."
                    )
            if role_arn is not None:
                action.role_arn = role_arn
            if params is not None:
                action.params = params
            action.modified = now()
            return self.reply({"actionArn": action.arn, "actionId": action.action_id})

    def delete_mitigation_action(self) -> str:
        # Tasks keep their own snapshot of the actions they use, so deleting one never disturbs them.
        # AWS answers success for a name that does not exist (the model lists no not-found error).
        with self.state.lock:
            self.state.actions.pop(self.args.get("actionName", ""), None)
        return self.reply({})

    def list_mitigation_actions(self) -> str:
        action_type = self.args.get("actionType")
        if action_type is not None and action_type not in PARAM_TYPES.values():
            raise InvalidRequest(f"Unknown mitigation action type: {action_type}")
        with self.state.lock:
            actions = [a for a in self.state.actions.values() if action_type in (None, a.action_type)]
        actions.sort(key=lambda a: (-a.created, a.name))  # newest first, as AWS lists them
        items, token = page(actions, self.args.get("nextToken"), self.args.get("maxResults"))
        return self.reply(
            {
                "actionIdentifiers": [
                    {"actionName": a.name, "actionArn": a.arn, "creationDate": epoch(a.created)}
                    for a in items
                ],
                "nextToken": token,
            }
        )
