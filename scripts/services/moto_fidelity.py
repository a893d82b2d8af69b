"""moto server with what it gets wrong about AWS put right: a double that names or accepts
what AWS does not is a bug in the double.

- ECS's service-linked role is named `AWSServiceRoleForECS` (ECS Developer Guide, "Using
  service-linked roles for Amazon ECS"); moto 5.2.5 derives `AWSServiceRoleForecs` from the
  service's name, so a tool looking for the real name never finds it.
- A managed policy holds at most 6,144 characters, whitespace not counted (IAM User Guide,
  "IAM and AWS STS quotas"); AWS refuses a longer one with LimitExceeded, moto 5.2.5 stores it.

Usage: python3 moto_fidelity.py [moto.server options]
"""
import inspect
import sys

from moto.iam import models
from moto.iam.exceptions import LimitExceededException
from moto.server import main

# How AWS spells the service in its service-linked role's name, where moto's rule differs.
models.SERVICE_NAME_CONVERSION.setdefault("ecs", "ECS")

MANAGED_POLICY_MAX = 6144


def _sized(create):
    signature = inspect.signature(create)

    def checked(self, *args, **kwargs):
        document = signature.bind(self, *args, **kwargs).arguments["policy_document"]
        size = sum(1 for c in document if not c.isspace())
        if size > MANAGED_POLICY_MAX:
            raise LimitExceededException(
                f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_MAX}"
            )
        return create(self, *args, **kwargs)

    return checked


models.IAMBackend.create_policy = _sized(models.IAMBackend.create_policy)
models.IAMBackend.create_policy_version = _sized(models.IAMBackend.create_policy_version)

if __name__ == "__main__":
    sys.exit(main())
