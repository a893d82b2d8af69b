"""moto server for runs with IAM enforcement on (tests/iam_enforced.rs).

AWS checks a SigV4 signature against the request bytes as sent. moto 5.2.5 checks it against
the form body rebuilt from the parsed parameters, encoded as botocore encodes (a space is `+`);
other SDKs (the Rust SDK among them) encode a space as `%20`, so moto refuses every signed
request with a space in a parameter (a role's or a security group's description) with
SignatureDoesNotMatch, which AWS accepts. Here a signature that does not match the botocore
encoding is checked again against the `%20` encoding, the SDKs' other valid form.

moto also names the action by the signing name of the service; IAM's prefix differs for the
Resource Groups Tagging API (signing name `tagging`, actions `tag:GetResources`...).

AssumeRoleWithWebIdentity "does not require the use of AWS security credentials" (STS API
Reference): the caller has only the identity provider's token. moto enforcing IAM asks it for
a signature; here it is let through to fidelity_oidc.py's check of the token and the trust.

moto cannot tell which resource a call acts on (it evaluates every call as on `*`) nor most
condition keys: a statement scoped to ARNs or with conditions never matches, and one with a
condition it cannot read is taken as a denial. Here IAM's own calls on a role, a managed
policy or an OIDC provider are evaluated on that resource's ARN, as AWS does (Service
Authorization Reference, "Actions defined by AWS Identity and Access Management"): who may
change which role is what keeps a CI role from granting itself more. Every other call is
evaluated with the caller's statements on `*`; and conditions are left out, but for
`iam:PermissionsBoundary` on IAM's calls (the boundary a call sets, or the role's own), which is
what keeps a CI role's writes to the stack's roles within their boundary. The tests check the
other resources and conditions from the calls' journal (tests/common/arn_scope.rs).

A role with a permissions boundary can do only what both its policies and the boundary allow
(IAM User Guide, "Permissions boundaries for IAM entities"); moto ignores boundaries. Here an
assumed role's calls are held to its role's boundary too.

In a new account, the first load balancer or target group makes Elastic Load Balancing's
service-linked role, and the first DB instance RDS's, with the caller's
iam:CreateServiceLinkedRole (Elastic Load Balancing User Guide, "Elastic Load Balancing
service-linked role"; RDS User Guide, "Using service-linked roles for Amazon RDS"): refused
without it. moto makes neither; here they are made, or the create refused, as AWS does.

Usage: python3 moto_enforcing.py [moto.server options]
"""
import fnmatch
import sys
from urllib.parse import quote

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AuthFailureError, SignatureDoesNotMatchError
from moto.iam import access_control
from moto.server import main

import moto_fidelity  # noqa: F401  (the same fixes as every other moto run)

_check = access_control.IAMRequestBase.check_signature


def _percent_encoded(data):
    pairs = []
    for key, values in data.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append(f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}")
    return "&".join(pairs)


def check_signature(self):
    try:
        _check(self)
    except (SignatureDoesNotMatchError, AuthFailureError):  # AuthFailure: EC2's word for it
        if self._body or not isinstance(self._data, dict):
            raise
        self._body = _percent_encoded(self._data)
        try:
            _check(self)
        finally:
            self._body = b""


access_control.IAMRequestBase.check_signature = check_signature

# The Service Authorization Reference's prefix where it is not the signing name.
_PREFIXES = {"tagging": "tag"}
_init = access_control.IAMRequestBase.__init__


def __init__(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    service, _, action = self._action.partition(":")
    self._action = f"{_PREFIXES.get(service, service)}:{action}"


access_control.IAMRequestBase.__init__ = __init__

_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action
_UNSIGNED = ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")


def _authenticate_and_authorize_action(self, iam_request_cls, resource="*"):
    if self._get_action() in _UNSIGNED:
        return None
    return _authenticate(self, iam_request_cls, resource)


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_and_authorize_action


_BOUNDARY_KEY = "iam:PermissionsBoundary"


def _holds(operator, wanted, actual):
    values = wanted if isinstance(wanted, list) else [wanted]
    if actual is None:
        return False
    if operator in ("ArnLike", "StringLike"):
        return any(fnmatch.fnmatchcase(actual, v) for v in values)
    if operator in ("ArnEquals", "StringEquals"):
        return actual in values
    return False


class _Evaluable(access_control.IAMPolicy):
    """The caller's policy on `*` unless the call's resource is known; without conditions but
    `iam:PermissionsBoundary`, decided here against `boundary` (a statement whose condition
    does not hold matches nothing)."""

    def __init__(self, policy, scoped, boundary=None):
        super().__init__(policy)
        statements = self._policy_json["Statement"]
        for s in statements if isinstance(statements, list) else [statements]:
            if "Resource" in s and not scoped:
                s["Resource"] = "*"
            condition = s.pop("Condition", None) or {}
            for operator, keys in condition.items():
                if scoped and _BOUNDARY_KEY in keys:
                    if not _holds(operator, keys[_BOUNDARY_KEY], boundary):
                        s["Action"] = []


def _boundary(self):
    """The value of iam:PermissionsBoundary for this IAM call: the boundary it sets, else the
    one the role it acts on has."""
    value = _param(self._data, "PermissionsBoundary")
    if value:
        return value
    role = _param(self._data, "RoleName")
    if not role:
        return None
    try:
        return self.backend.get_role(role).permissions_boundary_arn
    except Exception:
        return None


def _caller_boundary(self):
    """The boundary of the role an assumed-role caller acts as, if it has one."""
    role = getattr(self._access_key, "_owner_role_name", None)
    if not role:
        return None
    try:
        arn = self.backend.get_role(role).permissions_boundary_arn
        return self.backend.get_policy(arn) if arn else None
    except Exception:
        return None


def _param(data, key):
    value = data.get(key) if isinstance(data, dict) else None
    return value[0] if isinstance(value, list) else value


def _iam_resource(self):
    """The ARN an IAM call acts on, where its parameters name it."""
    if not self._action.startswith("iam:"):
        return None
    data, head = self._data, f"arn:aws:iam::{self.account_id}:"
    role, policy = _param(data, "RoleName"), _param(data, "PolicyArn")
    if role:
        try:
            return self.backend.get_role(role).arn
        except Exception:
            return f"{head}role{_param(data, 'Path') or '/'}{role}"
    if policy:
        return policy
    if _param(data, "OpenIDConnectProviderArn"):
        return _param(data, "OpenIDConnectProviderArn")
    action = self._action.split(":")[1]
    if action == "CreatePolicy":
        return f"{head}policy{_param(data, 'Path') or '/'}{_param(data, 'PolicyName')}"
    if action == "CreateOpenIDConnectProvider":
        return f"{head}oidc-provider/{_param(data, 'Url').removeprefix('https://')}"
    return None


# The creates that make their service's service-linked role when the account has none.
_MAKES_ITS_ROLE = {
    "elasticloadbalancing:CreateLoadBalancer": "elasticloadbalancing.amazonaws.com",
    "elasticloadbalancing:CreateTargetGroup": "elasticloadbalancing.amazonaws.com",
    "rds:CreateDBInstance": "rds.amazonaws.com",
    "rds:RestoreDBInstanceFromDBSnapshot": "rds.amazonaws.com",
}
_ROLE_NAMES = {
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
}


def _service_linked_role(self):
    """Makes the service-linked role this create needs, if missing, as the caller."""
    service = _MAKES_ITS_ROLE.get(self._action)
    if not service:
        return
    name = _ROLE_NAMES[service]
    try:
        self.backend.get_role(name)
        return
    except Exception:
        pass
    arn = f"arn:aws:iam::{self.account_id}:role/aws-service-role/{service}/{name}"
    permitted = any(
        _Evaluable(p, True).is_action_permitted("iam:CreateServiceLinkedRole", arn)
        == access_control.PermissionResult.PERMITTED
        for p in self._access_key.collect_policies()
    )
    if not permitted:
        self._action = "iam:CreateServiceLinkedRole"
        self._raise_access_denied()
    self.backend.create_service_linked_role(service, "", "")


def check_action_permitted(self, resource):
    if self._action == "sts:GetCallerIdentity":
        return
    arn = _iam_resource(self)
    boundary = _boundary(self) if arn else None
    bounded_by = _caller_boundary(self)
    if bounded_by is not None:
        within = _Evaluable(bounded_by, arn is not None, boundary).is_action_permitted(
            self._action, arn or resource
        )
        if within != access_control.PermissionResult.PERMITTED:
            self._raise_access_denied()
    permitted = False
    for policy in self._access_key.collect_policies():
        result = _Evaluable(policy, arn is not None, boundary).is_action_permitted(
            self._action, arn or resource
        )
        if result == access_control.PermissionResult.DENIED:
            self._raise_access_denied()
        permitted = permitted or result == access_control.PermissionResult.PERMITTED
    if self._is_assuming_role_operation(resource):
        permitted = permitted and self._check_role_trust_relationship(resource)
    if not permitted:
        self._raise_access_denied()
    _service_linked_role(self)


access_control.IAMRequestBase.check_action_permitted = check_action_permitted

if __name__ == "__main__":
    sys.exit(main())
