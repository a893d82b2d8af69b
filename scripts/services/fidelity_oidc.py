"""IAM managed policies, OIDC providers and STS web identity in moto 5.2.5, put right:

- DeletePolicy refuses a policy still attached to a user, group or role or used as a role's
  permissions boundary, and one with versions besides the default (DeleteConflict; IAM API Reference, DeletePolicy: "you must first detach
  the policy from all users, groups, and roles ... you must delete all the policy's versions").
  moto deletes it, so a client deleting in the wrong order looks fine.
- AddClientIDToOpenIDConnectProvider (idempotent, IAM API Reference) is missing from moto.
- AssumeRoleWithWebIdentity hands out the role's credentials only to a token whose issuer is an
  OIDC provider of the account, whose audience that provider accepts, and which the role's trust
  policy allows: the provider as `Principal.Federated`, the action, and its `StringEquals` /
  `StringLike` conditions on `<issuer>:aud` and `<issuer>:sub` (STS API Reference,
  AssumeRoleWithWebIdentity; IAM User Guide, "Available keys for AWS OIDC federation"). moto
  gives any caller credentials for any role. The token's signature is not checked: the double
  cannot reach the issuer's keys (tests sign with none); its claims are.
"""
import base64
import fnmatch
import json
import time
from urllib.parse import unquote

from moto.core.exceptions import ServiceException
from moto.iam import models as iam_models
from moto.iam import responses as iam_responses
from moto.iam.exceptions import DeleteConflictException
from moto.sts import responses as sts_responses


def _delete_policy(delete):
    def checked(self, policy_arn):
        policy = self.get_policy(policy_arn)
        if policy.attachment_count:
            raise DeleteConflictException("Cannot delete a policy attached to entities.")
        # A role's permissions boundary is a use too (IAM API Reference, DeletePolicy).
        if any(r.permissions_boundary_arn == policy.arn for r in self.roles.values()):
            raise DeleteConflictException("Cannot delete a policy attached to entities.")
        if len(policy.versions) > 1:
            raise DeleteConflictException(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy."
            )
        return delete(self, policy_arn)

    return checked


iam_models.IAMBackend.delete_policy = _delete_policy(iam_models.IAMBackend.delete_policy)


def _add_client_id(self):
    arn = self._get_param("OpenIDConnectProviderArn")
    client_id = self._get_param("ClientID")
    provider = self.backend.get_open_id_connect_provider(arn)
    if client_id not in provider.client_id_list:
        provider.client_id_list.append(client_id)
    return iam_responses.ActionResult({})


iam_responses.IamResponse.add_client_id_to_open_id_connect_provider = _add_client_id


class InvalidIdentityToken(ServiceException):
    code = "InvalidIdentityToken"


class AccessDenied(ServiceException):
    code = "AccessDenied"


def _claims(token):
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except Exception:
        raise InvalidIdentityToken("The web identity token that was passed could not be validated.")


def _holds(operator, actual, wanted):
    values = wanted if isinstance(wanted, list) else [wanted]
    if operator == "StringEquals":
        return actual in values
    if operator == "StringLike":
        return any(fnmatch.fnmatchcase(actual or "", v) for v in values)
    # Any other operator: the double cannot evaluate it, so it refuses, as a denial would.
    return False


def _allows(document, provider_arn, issuer, claims):
    doc = json.loads(unquote(document)) if document.startswith("%") else json.loads(document)
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for s in statements:
        federated = (s.get("Principal") or {}).get("Federated")
        federated = federated if isinstance(federated, list) else [federated]
        actions = s.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        if s.get("Effect") != "Allow" or provider_arn not in federated:
            continue
        if not any(fnmatch.fnmatchcase("sts:AssumeRoleWithWebIdentity", a) for a in actions):
            continue
        ok = True
        for operator, keys in (s.get("Condition") or {}).items():
            for key, wanted in keys.items():
                prefix, _, claim = key.rpartition(":")
                actual = claims.get(claim) if prefix == issuer else None
                ok = ok and _holds(operator, actual, wanted)
        if ok:
            return True
    return False


_assume = sts_responses.TokenResponse.assume_role_with_web_identity


def assume_role_with_web_identity(self):
    claims = _claims(self._get_param("WebIdentityToken") or "")
    role_arn = self._get_param("RoleArn")
    account = role_arn.split(":")[4]
    iam = iam_models.iam_backends[account][role_arn.split(":")[1]]
    issuer = (claims.get("iss") or "").removeprefix("https://")
    provider = next((p for p in iam.open_id_providers.values() if p.url == issuer), None)
    if provider is None:
        raise InvalidIdentityToken(
            f"No OpenIDConnect provider found in your account for https://{issuer}"
        )
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if not any(a in provider.client_id_list for a in auds):
        raise InvalidIdentityToken("Incorrect token audience")
    if claims.get("exp", 0) < time.time():
        raise InvalidIdentityToken("Token expired")
    claims["aud"] = next(a for a in auds if a in provider.client_id_list)
    role = iam.get_role_by_arn(role_arn)
    if not _allows(role.assume_role_policy_document, provider.arn, issuer, claims):
        raise AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
    return _assume(self)


sts_responses.TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity
