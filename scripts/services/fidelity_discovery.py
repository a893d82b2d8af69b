"""AWS Cloud Map in moto 5.2.5, put right where a client of private service discovery would
pass here and fail on AWS (Cloud Map API Reference; ECS Developer Guide, "Use service
discovery to connect Amazon ECS services with DNS names"):

- Namespace operations are asynchronous: CreatePrivateDnsNamespace and DeleteNamespace return
  an OperationId whose GetOperation is SUBMITTED, then PENDING, then SUCCESS; the namespace is
  listed only once made. Here that takes MOTO_CLOUDMAP_OPERATION_SECONDS (default 2); moto
  makes it at once and reports SUCCESS, so a client that never follows the operation passes.
- ListNamespaces and ListServices honour their Filters (NAME, TYPE; NAMESPACE_ID); moto lists
  everything, so a client that trusts the filter it never sent looks fine.
- DeleteNamespace of a namespace that still has services is ResourceInUse; DeleteService of a
  service with registered instances is ResourceInUse ("Service contains registered
  instances; delete the instances before deleting the service"), of a missing one
  ServiceNotFound. moto deletes both, and answers success for a missing service.
- ECS registers a service's tasks in its `serviceRegistries` (an instance per task, its
  private IPv4 address as AWS_INSTANCE_IPV4) and deregisters them only once the tasks have
  stopped, some time after DeleteService: here MOTO_ECS_DRAIN_SECONDS (default 3). moto's ECS
  registers nothing, so a Cloud Map service could be deleted at once.
- CreateService: names are unique in a namespace; a retry with the same CreatorRequestId
  returns the service made, any other request of that name is ServiceAlreadyExists (with its
  ServiceId). moto makes a duplicate.
- CreatePrivateDnsNamespace of a name the VPC already has is NamespaceAlreadyExists with the
  existing namespace's id (moto: ConflictingDomainExists, not in Cloud Map's API).
- A task's target group must be attached to a load balancer (a listener's default action or
  a rule) before ECS accepts it ("The target group with targetGroupArn ... does not have an
  associated load balancer", InvalidParameterException); moto's ECS accepts any.
"""
import inspect
import ipaddress
import json
import os
import time

from moto.core.exceptions import JsonRESTError
from moto.ecs import models as ecs_models
from moto.ecs.exceptions import InvalidParameterException
from moto.elbv2 import models as elb_models
from moto.servicediscovery import models as sd_models
from moto.servicediscovery import responses as sd_responses
from moto.servicediscovery.exceptions import NamespaceNotFound, ServiceNotFound

OPERATION_SECONDS = float(os.environ.get("MOTO_CLOUDMAP_OPERATION_SECONDS", "2"))
DRAIN_SECONDS = float(os.environ.get("MOTO_ECS_DRAIN_SECONDS", "3"))


class ResourceInUse(JsonRESTError):
    def __init__(self, message):
        super().__init__("ResourceInUse", message)


def _backend(account_id, region):
    return sd_models.servicediscovery_backends[account_id][region]


# Operations: SUBMITTED for the first half, PENDING for the second, then SUCCESS.
_operation_init = sd_models.Operation.__init__


def operation_init(self, operation_type, targets):
    _operation_init(self, operation_type, targets)
    self.started = time.time()


def operation_status(self):
    age = time.time() - getattr(self, "started", 0)
    if age >= OPERATION_SECONDS:
        return "SUCCESS"
    return "SUBMITTED" if age < OPERATION_SECONDS / 2 else "PENDING"


sd_models.Operation.__init__ = operation_init
sd_models.Operation.status = property(operation_status, lambda self, v: None)


def _made(backend, namespace_id):
    """Whether the namespace's CREATE_NAMESPACE operation has ended."""
    for op in backend.operations.values():
        if op.operation_type == "CREATE_NAMESPACE" and op.targets.get("NAMESPACE") == namespace_id:
            return op.status == "SUCCESS"
    return True


def list_namespaces(self):
    made = [ns for ns in self.namespaces.values() if _made(self, ns.id)]
    return made


def get_namespace(self, namespace_id):
    if namespace_id not in self.namespaces or not _made(self, namespace_id):
        raise NamespaceNotFound(namespace_id)
    return self.namespaces[namespace_id]


_delete_namespace = sd_models.ServiceDiscoveryBackend.delete_namespace


def delete_namespace(self, namespace_id):
    if any(s.namespace_id == namespace_id for s in self.services.values()):
        raise ResourceInUse("Namespace has associated services")
    return _delete_namespace(self, namespace_id)


class NamespaceAlreadyExists(JsonRESTError):
    def __init__(self, namespace_id, creator_request_id):
        super().__init__("NamespaceAlreadyExists", "Namespace already exists")
        body = json.loads(self.description)
        body.update({"NamespaceId": namespace_id, "CreatorRequestId": creator_request_id})
        self.description = json.dumps(body)


_create_private = sd_models.ServiceDiscoveryBackend.create_private_dns_namespace
_create_signature_ns = inspect.signature(_create_private)


def create_private_dns_namespace(self, *args, **kwargs):
    """The same name on the same VPC is NamespaceAlreadyExists, with the existing one's id
    (moto: ConflictingDomainExists, which Cloud Map's API does not list)."""
    bound = _create_signature_ns.bind(self, *args, **kwargs).arguments
    for ns in self.namespaces.values():
        vpc = ns.vpc
        if ns.name == bound.get("name") and ns.type == "DNS_PRIVATE" and vpc in (None, bound.get("vpc")):
            raise NamespaceAlreadyExists(ns.id, getattr(ns, "creator_request_id", None))
    return _create_private(self, *args, **kwargs)


sd_models.ServiceDiscoveryBackend.create_private_dns_namespace = create_private_dns_namespace


class ServiceAlreadyExists(JsonRESTError):
    def __init__(self, service):
        super().__init__("ServiceAlreadyExists", "Service already exists")
        body = json.loads(self.description)
        body.update({"ServiceId": service.id, "CreatorRequestId": service.creator_request_id})
        self.description = json.dumps(body)


_create_sd_service = sd_models.ServiceDiscoveryBackend.create_service
_create_sd_signature = inspect.signature(_create_sd_service)


def create_sd_service(self, *args, **kwargs):
    """Names are unique in a namespace (DNS names cannot differ only by case): a repeat with
    the same CreatorRequestId (an SDK retry) returns the service it made; any other is
    ServiceAlreadyExists. moto makes a second service of the same name."""
    bound = _create_sd_signature.bind(self, *args, **kwargs).arguments
    for service in self.services.values():
        same = (service.name or "").lower() == (bound.get("name") or "").lower()
        if same and service.namespace_id == bound.get("namespace_id"):
            token = bound.get("creator_request_id")
            if token and token == service.creator_request_id:
                return service
            raise ServiceAlreadyExists(service)
    return _create_sd_service(self, *args, **kwargs)


sd_models.ServiceDiscoveryBackend.create_service = create_sd_service
sd_models.ServiceDiscoveryBackend.list_namespaces = list_namespaces
sd_models.ServiceDiscoveryBackend.get_namespace = get_namespace
sd_models.ServiceDiscoveryBackend.delete_namespace = delete_namespace


def _filtered(items, filters, fields):
    for f in filters or []:
        get = fields.get(f.get("Name"))
        if get is None:
            continue
        values = f.get("Values") or []
        items = [i for i in items if get(i) in values]
    return items


def responses_list_namespaces(self):
    import json

    filters = json.loads(self.body or "{}").get("Filters")
    namespaces = _filtered(
        list(self.servicediscovery_backend.list_namespaces()),
        filters,
        {"NAME": lambda n: n.name, "TYPE": lambda n: n.type},
    )
    return 200, {}, json.dumps({"Namespaces": [ns.to_json() for ns in namespaces]})


def responses_list_services(self):
    import json

    filters = json.loads(self.body or "{}").get("Filters")
    services = _filtered(
        list(self.servicediscovery_backend.list_services()),
        filters,
        {"NAMESPACE_ID": lambda s: s.namespace_id},
    )
    return json.dumps({"Services": [s.to_json() for s in services]})


sd_responses.ServiceDiscoveryResponse.list_namespaces = responses_list_namespaces
sd_responses.ServiceDiscoveryResponse.list_services = responses_list_services


# Instances ECS registers: (account, region, service id) → {instance id: (ip, gone_at)}.
_registered = {}


def _purge(account_id, region, service_id):
    now = time.time()
    tasks = _registered.get((account_id, region, service_id), {})
    for iid, (_, gone_at) in list(tasks.items()):
        if gone_at is not None and now >= gone_at:
            del tasks[iid]
            try:
                _backend(account_id, region).deregister_instance(service_id, iid)
            except Exception:  # noqa: BLE001  (deregistered by hand meanwhile)
                pass


def delete_service(self, service_id):
    _purge(self.account_id, self.region_name, service_id)
    service = self.services.get(service_id)
    if service is None:
        raise ServiceNotFound(service_id)
    if service.instances:
        raise ResourceInUse(
            "Service contains registered instances; delete the instances before deleting the service"
        )
    self.services.pop(service_id, None)


_list_instances = sd_models.ServiceDiscoveryBackend.list_instances


def list_instances(self, service_id):
    _purge(self.account_id, self.region_name, service_id)
    return _list_instances(self, service_id)


sd_models.ServiceDiscoveryBackend.delete_service = delete_service
sd_models.ServiceDiscoveryBackend.list_instances = list_instances

_next_ip = [int(ipaddress.ip_address("10.42.100.1"))]


def _registry_service(account_id, region, arn):
    service_id = arn.rsplit("/", 1)[-1]
    return _backend(account_id, region).services.get(service_id)


def _sync_registries(backend, name, registries, count):
    """Keeps `count` tasks of ECS service `name` registered in each of `registries`; the
    others are deregistered DRAIN_SECONDS from now, as their tasks stop."""
    for registry in registries or []:
        arn = registry.get("registryArn")
        sd = _registry_service(backend.account_id, backend.region_name, arn or "")
        if sd is None:  # deleted since (checked before the call that set it)
            continue
        key = (backend.account_id, backend.region_name, sd.id)
        tasks = _registered.setdefault(key, {})
        live = [i for i, (_, g) in tasks.items() if g is None and i.startswith(name + "-")]
        for iid in live[count:]:
            tasks[iid] = (tasks[iid][0], time.time() + DRAIN_SECONDS)
        for n in range(len(live), count):
            ip = str(ipaddress.ip_address(_next_ip[0]))
            _next_ip[0] += 1
            iid = f"{name}-{n}-{int(time.time() * 1000)}"
            tasks[iid] = (ip, None)
            _backend(backend.account_id, backend.region_name).register_instance(
                sd.id, iid, iid, {"AWS_INSTANCE_IPV4": ip, "ECS_SERVICE_NAME": name}
            )


def _check_registries(backend, registries):
    for registry in registries or []:
        arn = registry.get("registryArn") or ""
        if _registry_service(backend.account_id, backend.region_name, arn) is None:
            raise InvalidParameterException(f"Service registry {arn} does not exist.")


def _check_target_groups(backend, load_balancers):
    elb = elb_models.elbv2_backends[backend.account_id][backend.region_name]
    for lb in load_balancers or []:
        arn = lb.get("targetGroupArn")
        # Attached now: a listener's default action or a rule forwards to it (moto's
        # load_balancer_arns is only ever added to).
        if arn in elb.target_groups and not elb._any_listener_using(arn):
            raise InvalidParameterException(
                f"The target group with targetGroupArn {arn} does not have an associated load balancer."
            )


_create_service = ecs_models.EC2ContainerServiceBackend.create_service


_create_signature = inspect.signature(_create_service)


def create_service(self, *args, **kwargs):
    bound = _create_signature.bind(self, *args, **kwargs).arguments
    _check_target_groups(self, bound.get("load_balancers"))
    _check_registries(self, bound.get("service_registries"))
    service = _create_service(self, *args, **kwargs)
    _sync_registries(self, service.name, service.service_registries, int(service.desired_count or 0))
    return service


_update_service = ecs_models.EC2ContainerServiceBackend.update_service


def update_service(self, props):
    _check_target_groups(self, props.get("load_balancers"))
    _check_registries(self, props.get("service_registries"))
    cluster = props.get("cluster", "default")
    name = props.get("service", "").split("/")[-1]
    before = self._get_service(cluster, name)
    old = list(before.service_registries or [])
    service = _update_service(self, props)
    new = service.service_registries or []
    # Registries dropped: their tasks leave as the new deployment replaces them.
    _sync_registries(self, service.name, [r for r in old if r not in new], 0)
    _sync_registries(self, service.name, new, int(service.desired_count or 0))
    return service


_delete_service = ecs_models.EC2ContainerServiceBackend.delete_service


def delete_service(self, cluster_name, service_name, force=False):
    service = _delete_service(self, cluster_name, service_name, force)
    _sync_registries(self, service.name, service.service_registries, 0)
    return service


ecs_models.EC2ContainerServiceBackend.create_service = create_service
ecs_models.EC2ContainerServiceBackend.update_service = update_service
ecs_models.EC2ContainerServiceBackend.delete_service = delete_service
