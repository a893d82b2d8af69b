"""moto server with what it gets wrong about AWS put right: a double that names or accepts
what AWS does not is a bug in the double.

- ECS's service-linked role is named `AWSServiceRoleForECS` (ECS Developer Guide, "Using
  service-linked roles for Amazon ECS"); moto 5.2.5 derives `AWSServiceRoleForecs` from the
  service's name, so a tool looking for the real name never finds it.

Usage: python3 moto_fidelity.py [moto.server options]
"""
import sys

from moto.iam import models
from moto.server import main

# How AWS spells the service in its service-linked role's name, where moto's rule differs.
models.SERVICE_NAME_CONVERSION.setdefault("ecs", "ECS")

if __name__ == "__main__":
    sys.exit(main())
