"""moto server with what it gets wrong about AWS put right: a double that names or accepts
what AWS does not is a bug in the double.

- ECS's service-linked role is named `AWSServiceRoleForECS` (ECS Developer Guide, "Using
  service-linked roles for Amazon ECS"); moto 5.2.5 derives `AWSServiceRoleForecs` from the
  service's name, so a tool looking for the real name never finds it.
- A managed policy holds at most 6,144 characters, whitespace not counted (IAM User Guide,
  "IAM and AWS STS quotas"); AWS refuses a longer one with LimitExceeded, moto 5.2.5 stores it.
- The secret RDS makes for a managed master password (ManageMasterUserPassword) holds the
  instance's master user name and a password RDS generates (RDS User Guide, "Password
  management with Amazon RDS and AWS Secrets Manager"); moto 5.2.5 stores the fixed pair
  `admin` / `P@55w0rd!` whatever the instance's user, so a client reading the wrong key or
  a hard-coded user would pass.
- RDS refuses to delete a DB subnet group an instance still uses
  (InvalidDBSubnetGroupStateFault, RDS API Reference, DeleteDBSubnetGroup); moto 5.2.5 deletes
  it, so a client that deletes the group before the instance, or instead of it, looks fine.
- A new or restored DB instance is `creating`, with no endpoint yet, then `backing-up`, before
  it is `available` (RDS User Guide, "Viewing Amazon RDS DB instance status"); on AWS that
  takes minutes, here MOTO_RDS_CREATE_SECONDS (default 2). moto 5.2.5 makes it `available`
  at once, so a client that uses the instance before it serves, or never waits, looks fine.
- RestoreDBInstanceFromDBSnapshot cannot make RDS manage the password except for Oracle
  (RDS API Reference, ManageMasterUserPassword: "Applies to RDS for Oracle only"; the RDS User
  Guide lists create, modify and restore from S3): a restored PostgreSQL instance keeps the
  snapshot's password, unmanaged, until a ModifyDBInstance turns management on. moto 5.2.5
  makes it a new secret, so a client that never turns it on looks fine.

Application Auto Scaling's fixes are in fidelity_scaling.py; ACM's, Route 53's and ELB's
(certificates, records, HTTPS listeners) in fidelity_https.py, ELB's rules in fidelity_rules.py; Cloud Map's (and ECS's
registering tasks in it) in fidelity_discovery.py; IAM's managed policies, OIDC providers and
STS's web identity in fidelity_oidc.py; ECR's scan on push of the images in the local registry
in fidelity_ecr_scan.py; all imported here.

Usage: python3 moto_fidelity.py [moto.server options]
"""
import inspect
import json
import os
import secrets
import string
import sys
import time

from moto.iam import models
from moto.iam.exceptions import LimitExceededException
from moto.rds import models as rds_models
from moto.server import main

import fidelity_discovery  # noqa: F401  (patches on import)
import fidelity_ecr_scan  # noqa: F401
import fidelity_https  # noqa: F401
import fidelity_oidc  # noqa: F401
import fidelity_rules  # noqa: F401
import fidelity_scaling  # noqa: F401

# How AWS spells the service in its service-linked role's name, where moto's rule differs.
models.SERVICE_NAME_CONVERSION.setdefault("ecs", "ECS")
models.SERVICE_NAME_CONVERSION.setdefault("elasticloadbalancing", "ElasticLoadBalancing")
models.SERVICE_NAME_CONVERSION.setdefault("rds", "RDS")

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

# RDS's generated passwords: printable ASCII without `/`, `"`, `@` and space, which master
# passwords cannot contain (RDS API Reference, CreateDBInstance, MasterUserPassword).
PASSWORD_CHARS = string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?[]^_{|}~"


def _rds_secret_string(self):
    password = "".join(secrets.choice(PASSWORD_CHARS) for _ in range(28))
    return json.dumps({"username": self.resource.master_username, "password": password})


rds_models.MasterUserSecret._generate_secret_string = _rds_secret_string


class InvalidDBSubnetGroupStateFault(rds_models.RDSClientError):
    def __init__(self, name):
        super().__init__(
            "InvalidDBSubnetGroupStateFault",
            f"Cannot delete the subnet group '{name}' because at least one database instance: "
            "is still using it.",
        )


def _delete_subnet_group(delete):
    def checked(self, subnet_name):
        for db in self.databases.values():
            if getattr(db, "_db_subnet_group_name", None) == subnet_name:
                raise InvalidDBSubnetGroupStateFault(subnet_name)
        return delete(self, subnet_name)

    return checked


rds_models.RDSBackend.delete_subnet_group = _delete_subnet_group(
    rds_models.RDSBackend.delete_subnet_group
)

RDS_CREATE_SECONDS = float(os.environ.get("MOTO_RDS_CREATE_SECONDS", "2"))
_db_init = rds_models.DBInstance.__init__
_db_endpoint = rds_models.DBInstance.endpoint


def _timed_init(self, *args, **kwargs):
    kwargs.pop("fidelity_born", None)  # a restore copies the snapshot's instance's fields
    kwargs.pop("fidelity_status", None)
    self._fidelity_born = time.monotonic()
    _db_init(self, *args, **kwargs)


def _status(self):
    status = self.__dict__.get("_fidelity_status", "available")
    age = time.monotonic() - self.__dict__.get("_fidelity_born", 0)
    if status == "available" and age < RDS_CREATE_SECONDS:
        return "creating" if age < RDS_CREATE_SECONDS * 0.75 else "backing-up"
    return status


def _set_status(self, value):
    self.__dict__["_fidelity_status"] = value


def _endpoint(self):
    return None if self.status == "creating" else _db_endpoint.fget(self)


def _restore(restore):
    def unmanaged(self, from_snapshot_id, overrides):
        db = restore(self, from_snapshot_id, overrides)
        if not str(db.engine).startswith("oracle") and getattr(db, "master_user_secret", None):
            db.master_user_secret.delete_secret()
            del db.master_user_secret
            db.manage_master_user_password = False
        return db

    return unmanaged


rds_models.RDSBackend.restore_db_instance_from_db_snapshot = _restore(
    rds_models.RDSBackend.restore_db_instance_from_db_snapshot
)
rds_models.DBInstance.__init__ = _timed_init
rds_models.DBInstance.status = property(_status, _set_status)
rds_models.DBInstance.endpoint = property(_endpoint)

if __name__ == "__main__":
    sys.exit(main())
