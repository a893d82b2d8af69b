"""Application Auto Scaling in moto 5.2.5, put right where it accepts what AWS refuses or
answers otherwise (Application Auto Scaling API Reference unless said):

- RegisterScalableTarget: a new target needs MinCapacity and MaxCapacity; capacities are 0 or
  more and min at most max (after merging an update with what is stored); a deleted (INACTIVE)
  ECS service cannot be registered. Tags go only with the first registration: for a target
  that exists AWS answers "The scalable target that you tried to tag already exists. To update
  tags on an existing scalable target, use the TagResource API." moto drops tags silently.
- AWS moves the service's desired count into [min, max] when the bounds change ("even if you
  don't include the MinCapacity or MaxCapacity"), as a scaling activity; moto never does.
- RoleARN is the service-linked role AWSServiceRoleForApplicationAutoScaling_ECSService, which
  AWS creates on the first registration if it is missing (Application Auto Scaling User Guide,
  "Service-linked roles for Application Auto Scaling"); moto leaves RoleARN empty and makes
  no role, and CreateServiceLinkedRole for ecs.application-autoscaling.amazonaws.com names it
  AWSServiceRoleForApplicationAutoScaling_Ecs. SuspendedState is always reported.
- PutScalingPolicy on a target never registered is ObjectNotFoundException ("No scalable
  target registered for …"); ALBRequestCountPerTarget needs a ResourceLabel of the form
  app/<lb>/<id>/targetgroup/<tg>/<id>, and no other metric takes one
  (PredefinedMetricSpecification); TargetValue must be positive and cooldowns 0 or more. An
  update keeps the policy's ARN and replaces its alarms; moto leaks the old ones.
- DeleteScalingPolicy and DeregisterScalableTarget of what does not exist are
  ObjectNotFoundException, not ValidationException; deregistering deletes the target's
  policies (RegisterScalableTarget/DeregisterScalableTarget).
- DescribeScalingPolicies filters by PolicyNames and by the exact ResourceId, 10 per page at
  most; moto ignores the names, matches substrings and pages by 100.
- DescribeScalingActivities is implemented (moto: HTTP 500), with the activities above.
"""
import json
import re
import time
import uuid

from moto.applicationautoscaling import models as aas
from moto.applicationautoscaling import responses as aas_responses
from moto.core.exceptions import JsonRESTError
from moto.iam import models as iam_models
from moto.iam.exceptions import InvalidInput

ROLE = "AWSServiceRoleForApplicationAutoScaling_ECSService"
ROLE_SERVICE = "ecs.application-autoscaling.amazonaws.com"
LABEL = re.compile(r"^app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+$")
ACTIVITIES = {}  # resource id -> [activity], newest first


def invalid(message):
    return JsonRESTError("ValidationException", message)


def not_found(message):
    return JsonRESTError("ObjectNotFoundException", message)


def _service(backend, r_id):
    parts = r_id.split("/")
    if len(parts) != 3 or parts[0] != "service":
        raise invalid(f"Unsupported resource ID: {r_id}")
    found, _ = backend.ecs_backend.describe_services(parts[1], [parts[2]])
    live = [s for s in found if getattr(s, "status", "ACTIVE") == "ACTIVE"]
    if not live:
        raise invalid(f"ECS service doesn't exist: {r_id}")
    return live[0]


_create_slr = iam_models.IAMBackend.create_service_linked_role


def create_slr(self, service_name, description, suffix):
    if service_name != ROLE_SERVICE:
        return _create_slr(self, service_name, description, suffix)
    if any(r.name == ROLE for r in self.roles.values()):
        raise InvalidInput(f"Service role name {ROLE} has been taken in this account, please try a different suffix.")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": [ROLE_SERVICE]}}],
    }
    return self.create_role(
        ROLE,
        json.dumps(trust),
        f"/aws-service-role/{ROLE_SERVICE}/",
        permissions_boundary=None,
        description=description or "",
        tags=[],
        max_session_duration="3600",
        linked_service=ROLE_SERVICE,
    )


iam_models.IAMBackend.create_service_linked_role = create_slr


def _role_arn(backend):
    iam = iam_models.iam_backends[backend.account_id]["global"]
    for role in iam.roles.values():
        if role.name == ROLE:
            return role.arn
    return create_slr(iam, ROLE_SERVICE, None, "").arn


def _activity(r_id, description, message):
    now = time.time()
    ACTIVITIES.setdefault(r_id, []).insert(
        0,
        {
            "ActivityId": str(uuid.uuid4()),
            "ServiceNamespace": "ecs",
            "ResourceId": r_id,
            "ScalableDimension": "ecs:service:DesiredCount",
            "Description": description,
            "Cause": "minimum or maximum capacity changed",
            "StartTime": now,
            "EndTime": now,
            "StatusCode": "Successful",
            "StatusMessage": message,
        },
    )


_register = aas.ApplicationAutoscalingBackend.register_scalable_target


def register(self, namespace, r_id, dimension, min_capacity, max_capacity, role_arn, suspended_state, tags=None):
    service = _service(self, r_id) if namespace == "ecs" else None
    existing = self.targets.get(dimension, {}).get(r_id)
    if existing is None and (min_capacity is None or max_capacity is None):
        raise invalid("MinCapacity and MaxCapacity are required when registering a new scalable target")
    if existing is not None and tags:
        raise invalid(
            "The scalable target that you tried to tag already exists. To update tags on an existing scalable target, use the TagResource API."
        )
    lo = min_capacity if min_capacity is not None else existing.min_capacity
    hi = max_capacity if max_capacity is not None else existing.max_capacity
    if lo < 0 or hi < 0:
        raise invalid("Capacity cannot be negative")
    if lo > hi:
        raise invalid(f"Minimum capacity ({lo}) cannot be greater than maximum capacity ({hi})")
    if namespace == "ecs":
        role_arn = _role_arn(self)
    target = _register(self, namespace, r_id, dimension, min_capacity, max_capacity, role_arn, suspended_state)
    target.suspended_state = target.suspended_state or {
        "DynamicScalingInSuspended": False,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False,
    }
    if existing is None:
        target.tags = dict(tags or {})
    if service is not None:
        count = min(max(service.desired_count, lo), hi)
        if count != service.desired_count:
            service.desired_count = count
            _activity(
                r_id,
                f"Setting desired count to {count}.",
                f"Successfully set desired count to {count}. Change successfully fulfilled by ecs.",
            )
    return target


aas.ApplicationAutoscalingBackend.register_scalable_target = register


def _register_response(self):
    self._validate_params()
    target = self.applicationautoscaling_backend.register_scalable_target(
        self._get_param("ServiceNamespace"),
        self._get_param("ResourceId"),
        self._get_param("ScalableDimension"),
        min_capacity=self._get_int_param("MinCapacity"),
        max_capacity=self._get_int_param("MaxCapacity"),
        role_arn=self._get_param("RoleARN"),
        suspended_state=self._get_param("SuspendedState"),
        tags=self._get_param("Tags"),
    )
    return json.dumps({"ScalableTargetARN": target.arn})


aas_responses.ApplicationAutoScalingResponse.register_scalable_target = _register_response


def deregister(self, namespace, r_id, dimension):
    if r_id not in self.targets.get(dimension, {}):
        raise not_found(
            f"No scalable target found for service namespace: {namespace}, resource ID: {r_id}, scalable dimension: {dimension}"
        )
    del self.targets[dimension][r_id]
    for key, policy in list(self.policies.items()):
        if policy.resource_id == r_id and policy.scalable_dimension == dimension:
            policy.delete_alarms(self.account_id, self.region_name)
            del self.policies[key]


aas.ApplicationAutoscalingBackend.deregister_scalable_target = deregister

_put = aas.ApplicationAutoscalingBackend.put_scaling_policy


def put_policy(self, policy_name, service_namespace, resource_id, scalable_dimension, policy_body, policy_type):
    if resource_id not in self.targets.get(scalable_dimension, {}):
        raise not_found(
            f"No scalable target registered for service namespace: {service_namespace}, resource ID: {resource_id}, scalable dimension: {scalable_dimension}"
        )
    if policy_type == "TargetTrackingScaling":
        body = policy_body or {}
        value = body.get("TargetValue")
        if value is None or value <= 0:
            raise invalid("TargetValue must be a positive number for the metric")
        spec = body.get("PredefinedMetricSpecification")
        if not spec and not body.get("CustomizedMetricSpecification"):
            raise invalid("A predefined or customized metric specification is required")
        if spec:
            metric, label = spec.get("PredefinedMetricType"), spec.get("ResourceLabel")
            allowed = ["ECSServiceAverageCPUUtilization", "ECSServiceAverageMemoryUtilization", "ALBRequestCountPerTarget"]
            if service_namespace == "ecs" and metric not in allowed:
                raise invalid(f"Unsupported metric type {metric} for service namespace ecs")
            if metric == "ALBRequestCountPerTarget" and not (label and LABEL.match(label)):
                raise invalid("ResourceLabel is required for ALBRequestCountPerTarget and must be app/<load-balancer-name>/<id>/targetgroup/<target-group-name>/<id>")
            if metric != "ALBRequestCountPerTarget" and label:
                raise invalid(f"ResourceLabel cannot be specified for {metric}")
        for key in ("ScaleInCooldown", "ScaleOutCooldown"):
            if body.get(key) is not None and body[key] < 0:
                raise invalid(f"{key} cannot be negative")
    key = aas.FakeApplicationAutoscalingPolicy.formulate_key(
        service_namespace, resource_id, scalable_dimension, policy_name
    )
    old = self.policies.get(key)
    if old is not None:
        old.delete_alarms(self.account_id, self.region_name)
    policy = _put(self, policy_name, service_namespace, resource_id, scalable_dimension, policy_body, policy_type)
    if old is not None:
        policy.policy_arn, policy.creation_time = old.policy_arn, old.creation_time
    return policy


aas.ApplicationAutoscalingBackend.put_scaling_policy = put_policy


def delete_policy(self, policy_name, service_namespace, resource_id, scalable_dimension):
    key = aas.FakeApplicationAutoscalingPolicy.formulate_key(
        service_namespace, resource_id, scalable_dimension, policy_name
    )
    policy = self.policies.pop(key, None)
    if policy is None:
        raise not_found(
            f"No scaling policy found for service namespace: {service_namespace}, resource ID: {resource_id}, scalable dimension: {scalable_dimension}, policy name: {policy_name}"
        )
    policy.delete_alarms(self.account_id, self.region_name)


aas.ApplicationAutoscalingBackend.delete_scaling_policy = delete_policy


def describe_policies(self):
    page = min(self._get_int_param("MaxResults") or 10, 10)
    backend = self.applicationautoscaling_backend
    names = self._get_param("PolicyNames") or []
    r_id, dimension = self._get_param("ResourceId"), self._get_param("ScalableDimension")
    found = [
        p
        for p in backend.policies.values()
        if p.service_namespace == self._get_param("ServiceNamespace")
        and (not r_id or p.resource_id == r_id)
        and (not dimension or p.scalable_dimension == dimension)
        and (not names or p.policy_name in names)
    ]
    start = int(self._get_param("NextToken") or 0)
    out = {"ScalingPolicies": [aas_responses._build_policy(p) for p in found[start : start + page]]}
    if start + page < len(found):
        out["NextToken"] = str(start + page)
    return json.dumps(out)


aas_responses.ApplicationAutoScalingResponse.describe_scaling_policies = describe_policies


def describe_activities(self):
    r_id = self._get_param("ResourceId")
    page = min(self._get_int_param("MaxResults") or 50, 50)
    found = [a for rid, acts in ACTIVITIES.items() if not r_id or rid == r_id for a in acts]
    return json.dumps({"ScalingActivities": found[:page]})


aas_responses.ApplicationAutoScalingResponse.describe_scaling_activities = describe_activities
