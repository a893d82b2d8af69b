"""ACM, Route 53 and Elastic Load Balancing v2 in moto 5.2.5, put right where a client serving
HTTPS for a domain would pass here and fail on AWS:

ACM (ACM API Reference and User Guide)
- A certificate is issued only after DNS validation: each name's validation CNAME must be in a
  public Route 53 hosted zone of the account (User Guide, "DNS validation"). Here it must stay
  there MOTO_ACM_VALIDATION_WAIT seconds (moto's own setting), counted from the first check
  that finds it; without it the certificate stays PENDING_VALIDATION. moto issues every
  certificate after that wait whether or not the record exists.
- "there is a delay of several seconds before you can retrieve information about the new
  certificate" (RequestCertificate, DescribeCertificate): the ResourceRecord is missing from
  DomainValidationOptions for MOTO_ACM_RECORD_DELAY seconds (default 2); moto has it at once.
- The CNAME is "created specifically for your domain and your account", the same for x and
  *.x and for a repeat request (User Guide, "DNS validation"); moto hands out one value for
  every name. Here name and value are derived from the account and the name; the requested
  DomainName is listed first.
- RequestCertificate: DomainName must match the model's pattern, at most 253 characters, and
  the first name at most 64 ("In compliance with RFC 5280 ... cannot exceed 64 octets");
  SubjectAlternativeNames likewise (253); IdempotencyToken is \\w+ of 1-32; ValidationMethod is
  EMAIL, DNS or HTTP (ValidationException, "1 validation error detected: ..."). An IPv4
  address that passes the pattern (10.0.0.12; 10.0.0.1 fails it) is not a domain name
  (InvalidParameterException). moto accepts all, or fails with HTTP 500.
- DeleteCertificate of a certificate a load balancer listener uses is ResourceInUseException
  ("You cannot delete an ACM certificate that is being used by another AWS service",
  DeleteCertificate); InUseBy lists the load balancers whose listeners use it now (moto:
  listener ARNs, never removed).

Elastic Load Balancing v2 (ELB API Reference, CreateListener / ModifyListener)
- An HTTPS (or TLS) listener needs a certificate ("A certificate must be specified for HTTPS
  listeners"), and an ACM one must be ISSUED (CertificateNotFound "Certificate '<arn>' not
  found"); an HTTP (TCP, UDP) listener takes neither a certificate nor an SSL policy
  (ValidationError), and reports no SslPolicy (moto reports ELBSecurityPolicy-2016-08 on all).
  SslPolicy must be a known policy in CreateListener too (SSLPolicyNotFound). Turning HTTPS
  into HTTP "removes the security policy and default certificate" (ModifyListener).
- One listener per port: another with the same port is DuplicateListener ("A listener with
  the specified port already exists."), also when ModifyListener moves one onto a used port;
  the same settings again return the existing listener ("This operation is idempotent").
- Redirect actions (RedirectActionConfig): RedirectConfig required, StatusCode HTTP_301 or
  HTTP_302, Protocol HTTP, HTTPS or #{protocol}, no HTTPS to HTTP, no loop ("The redirect
  configuration is not valid because it creates a loop."). Components left out keep their
  values and are reported as #{protocol}, #{host}, #{port}, /#{path}, #{query}.
- CanonicalHostedZoneId is the region's Route 53 zone for load balancers ("Elastic Load
  Balancing endpoints and quotas"), e.g. Z35SXDOTRQ7X7K for an ALB in us-east-1; moto says
  Z2P70J7EXAMPLE.

Route 53 (Route 53 API Reference)
- ListHostedZonesByName lists in order of names with labels reversed, starting at the first
  zone at or after DNSName (and HostedZoneId), MaxItems at a time, with IsTruncated, MaxItems,
  NextDNSName and NextHostedZoneId; moto returns only the zones named exactly DNSName, and
  neither IsTruncated nor MaxItems.
- ChangeResourceRecordSets is transactional ("either makes all or none of the changes"):
  CREATE of an existing name and type, DELETE of a missing one, DELETE with values other than
  the current ones ("you must specify all the same values"), a name outside the zone (by
  label: fooexample.com is not in example.com) are InvalidChangeBatch and change nothing.
  Names are stored in lower case ("DNS domain name format"), and an alias to a load balancer
  must name an existing one by its DNSName (dualstack. allowed) with its CanonicalHostedZoneId
  ("Routing traffic to an ELB load balancer"). moto checks DELETE against a journal of past
  requests, stores duplicates, compares names with endswith and applies half a failed batch.
"""
import copy
import hashlib
import ipaddress
import os
import re
import time

from moto import settings
from moto.acm import models as acm_models
from moto.acm import responses as acm_responses
from moto.acm.exceptions import AWSValidationException, CertificateNotFound
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.elbv2 import models as elb_models
from moto.elbv2 import responses as elb_responses
from moto.elbv2.exceptions import (
    DuplicateListenerError,
    ELBClientError,
    InvalidLoadBalancerActionException,
    LoadBalancerNotFoundError,
    ValidationError,
)
from moto.elbv2.ssl_policies import SSL_POLICIES
from moto.route53 import models as r53_models
from moto.route53 import responses as r53_responses
from moto.route53.exceptions import (
    DnsNameInvalidForZone,
    InvalidActionValue,
    ResourceRecordAlreadyExists,
    Route53ClientError,
)
from moto.route53.utils import validate_domain_name

RECORD_DELAY = float(os.environ.get("MOTO_ACM_RECORD_DELAY", "2"))

DOMAIN_PATTERN = r"^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$"
TOKEN_PATTERN = r"\w+"
VALIDATION_METHODS = ["EMAIL", "DNS", "HTTP"]

# Route 53 hosted zone of the load balancers' DNS names, by region ("Elastic Load Balancing
# endpoints and quotas"); an unlisted region gets us-east-1's.
ALB_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}
NLB_ZONES = {
    "us-east-1": "Z26RNL4JYFTOTI",
    "us-east-2": "ZLMOA37VPKANP",
    "us-west-2": "Z18D5FSROUN65G",
    "eu-west-1": "Z2IFOLAFXWLO4F",
    "eu-central-1": "Z3F0SRJ5LGBH90",
}
TLS_PROTOCOLS = ("HTTPS", "TLS")
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"
REDIRECT_DEFAULTS = {
    "Protocol": "#{protocol}",
    "Host": "#{host}",
    "Port": "#{port}",
    "Path": "/#{path}",
    "Query": "#{query}",
}


def _fqdn(name):
    """Lower case with one trailing dot."""
    name = (name or "").lower()
    return name if name.endswith(".") else name + "."


def _bare(name):
    return _fqdn(name)[:-1]


def _in_zone(name, zone_name):
    name, zone = _bare(name), _bare(zone_name)
    return name == zone or name.endswith("." + zone)


def _value(v):
    return v["Value"] if isinstance(v, dict) else v


# ---------------------------------------------------------------- ACM


def _arn_parts(arn):
    parts = arn.split(":")  # arn:partition:acm:region:account:certificate/id
    return parts[1], parts[3], parts[4]


def _validation_record(account_id, domain):
    base = _bare(domain)
    if base.startswith("*."):
        base = base[2:]
    name = hashlib.sha256(f"acm-name:{account_id}:{base}".encode()).hexdigest()[:32]
    digest = hashlib.sha256(f"acm-value:{account_id}:{base}".encode()).hexdigest()
    letters = "".join(chr(ord("a") + int(digest[32 + 2 * i : 34 + 2 * i], 16) % 26) for i in range(10))
    return f"_{name}.{base}.", f"_{digest[:32]}.{letters}.acm-validations.aws."


def _published(partition, account_id, name, value):
    backend = r53_models.route53_backends[account_id][partition]
    for zone in backend.zones.values():
        if zone.private_zone or not _in_zone(name, zone.name):
            continue
        for rrset in zone.rrsets:
            if rrset.type == "CNAME" and _fqdn(rrset.name) == _fqdn(name):
                if any(_fqdn(_value(v)) == _fqdn(value) for v in rrset.records or []):
                    return True
    return False


def _cert_domains(cert):
    return sorted(set(cert.sans + ([cert.common_name] if cert.common_name else [])))


def _age(cert):
    return (utcnow() - cert.created_at).total_seconds()


def _using_listeners(account_id, region, arn):
    elb = elb_models.elbv2_backends[account_id][region]
    return [
        (lb, listener)
        for lb in elb.load_balancers.values()
        for listener in lb.listeners.values()
        if arn in listener.certificates
    ]


def check(self):
    now = utcnow()
    if self._not_valid_after(self._cert) <= now:
        self.status = "EXPIRED"
        return
    if self.type != "AMAZON_ISSUED" or self.status != "PENDING_VALIDATION":
        return
    partition, _, account_id = _arn_parts(self.arn)
    if all(_published(partition, account_id, *_validation_record(account_id, d)) for d in _cert_domains(self)):
        seen = getattr(self, "_dns_seen", None)
        if seen is None:
            seen = self._dns_seen = time.time()
        if time.time() - seen >= settings.ACM_VALIDATION_WAIT:
            self.status = "ISSUED"
    else:
        self._dns_seen = None


acm_models.CertBundle.check = check

_describe = acm_models.CertBundle.describe


def describe(self):
    out = _describe(self)
    cert = out["Certificate"]
    _, region, account_id = _arn_parts(self.arn)
    cert["InUseBy"] = sorted({lb.arn for lb, _ in _using_listeners(account_id, region, self.arn)})
    options = cert.get("DomainValidationOptions")
    if options is not None:
        early = _age(self) < RECORD_DELAY
        for option in options:
            option.pop("ResourceRecord", None)
            if not early:
                name, value = _validation_record(account_id, option["DomainName"])
                option["ResourceRecord"] = {"Name": name, "Type": "CNAME", "Value": value}
        options.sort(key=lambda o: (o["DomainName"] != self.common_name, o["DomainName"]))
    return out


acm_models.CertBundle.describe = describe


def _violations(value, where, max_len, pattern):
    if value is None:
        return [f"Value null at '{where}' failed to satisfy constraint: Member must not be null"]
    found = []
    if len(value) > max_len:
        found.append(
            f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have length less than or equal to {max_len}"
        )
    if len(value) < 1:
        found.append(
            f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have length greater than or equal to 1"
        )
    if not re.fullmatch(pattern, value, re.ASCII):
        found.append(
            f"Value '{value}' at '{where}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
        )
    return found


def _is_ip(name):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


_request_response = acm_responses.AWSCertificateManagerResponse.request_certificate


def request_certificate(self):
    domain = self._get_param("DomainName")
    sans = self._get_param("SubjectAlternativeNames") or []
    token = self._get_param("IdempotencyToken")
    method = self._get_param("ValidationMethod")
    errors = _violations(domain, "domainName", 253, DOMAIN_PATTERN)
    if domain is not None and not errors and len(domain) > 64:
        errors.append(
            f"Value '{domain}' at 'domainName' failed to satisfy constraint: Member must have length less than or equal to 64"
        )
    if any(_violations(s, "x", 253, DOMAIN_PATTERN) for s in sans):
        errors.append(
            f"Value '[{', '.join(sans)}]' at 'subjectAlternativeNames' failed to satisfy constraint: Member must satisfy "
            f"constraint: [Member must have length less than or equal to 253, Member must have length greater than or "
            f"equal to 1, Member must satisfy regular expression pattern: {DOMAIN_PATTERN}]"
        )
    if token is not None:
        errors += _violations(token, "idempotencyToken", 32, TOKEN_PATTERN)
    if method is not None and method not in VALIDATION_METHODS:
        errors.append(
            f"Value '{method}' at 'validationMethod' failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(VALIDATION_METHODS)}]"
        )
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: "
        raise AWSValidationException(count + "; ".join(errors))
    for name in [domain] + sans:
        if _is_ip(name):
            raise AWSError(
                f"DomainName '{name}' is an IP address. ACM issues certificates for domain names only.",
                "InvalidParameterException",
            )
    return _request_response(self)


acm_responses.AWSCertificateManagerResponse.request_certificate = request_certificate

_delete_certificate = acm_models.AWSCertificateManagerBackend.delete_certificate


def delete_certificate(self, arn):
    if arn in self._certificates and _using_listeners(self.account_id, self.region_name, arn):
        raise AWSError(f"Certificate {arn} in account {self.account_id} is in use.", "ResourceInUseException")
    return _delete_certificate(self, arn)


acm_models.AWSCertificateManagerBackend.delete_certificate = delete_certificate

# ---------------------------------------------------------------- ELBv2

_lb_init = elb_models.FakeLoadBalancer.__init__


def lb_init(self, *args, **kwargs):
    _lb_init(self, *args, **kwargs)
    region = self.arn.split(":")[3]
    table = NLB_ZONES if self.type == "network" else ALB_ZONES
    self.canonical_hosted_zone_id = table.get(region, table["us-east-1"])


elb_models.FakeLoadBalancer.__init__ = lb_init


def _certificate_usable(backend, arn):
    if ":acm:" not in arn:
        if not backend._certificate_exists(arn):
            raise ELBClientError("CertificateNotFound", f"Certificate '{arn}' not found")
        return
    try:
        cert = acm_models.acm_backends[backend.account_id][backend.region_name].get_certificate(arn)
    except CertificateNotFound:
        cert = None
    if cert is None or cert.status != "ISSUED":
        raise ELBClientError("CertificateNotFound", f"Certificate '{arn}' not found")


def _check_tls(backend, protocol, ssl_policy, certificates, current=()):
    if protocol in TLS_PROTOCOLS:
        if not (certificates or current):
            raise ValidationError(f"A certificate must be specified for {protocol} listeners")
        for c in certificates or []:
            _certificate_usable(backend, c.get("CertificateArn") or "")
        if ssl_policy is not None and ssl_policy not in SSL_POLICIES:
            raise ELBClientError("SSLPolicyNotFound", f"Policy {ssl_policy} not found")
    elif protocol is not None:
        if certificates:
            raise ValidationError(f"A certificate cannot be specified for {protocol} listeners")
        if ssl_policy is not None:
            raise ValidationError(f"An SSL policy cannot be specifed for {protocol} listeners")


def _check_redirects(actions, protocol):
    for i, action in enumerate(actions or [], 1):
        if action.get("Type") != "redirect":
            continue
        config = action.get("RedirectConfig")
        if not config:
            raise InvalidLoadBalancerActionException(
                "For actions of type 'redirect', you must specify the following fields: 'RedirectConfig'"
            )
        where = f"defaultActions.{i}.member.redirectConfig"
        code = config.get("StatusCode")
        if code not in ("HTTP_301", "HTTP_302"):
            shown = "null" if code is None else f"'{code}'"
            raise ValidationError(
                f"1 validation error detected: Value {shown} at '{where}.statusCode' failed to satisfy constraint: "
                "Member must satisfy enum value set: [HTTP_301, HTTP_302]"
            )
        wanted = config.get("Protocol")
        if wanted is not None and not re.fullmatch(r"HTTPS?|#\{protocol\}", wanted):
            raise ValidationError(
                f"1 validation error detected: Value '{wanted}' at '{where}.protocol' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: ^(HTTPS?|#\\{protocol\\})$"
            )
        for key, default in REDIRECT_DEFAULTS.items():
            if config.get(key) in (None, ""):
                config[key] = default
        if protocol == "HTTPS" and config["Protocol"] == "HTTP":
            raise InvalidLoadBalancerActionException("You can't redirect HTTPS to HTTP.")
        if all(config[k] == REDIRECT_DEFAULTS[k] for k in ("Protocol", "Host", "Port", "Path")):
            raise InvalidLoadBalancerActionException("The redirect configuration is not valid because it creates a loop.")


def _same_listener(listener, protocol, ssl_policy, certificates, actions, alpn):
    wanted = [elb_models.FakeAction(copy.deepcopy(a)).data for a in actions or []]
    return (
        listener.protocol == (protocol or "").upper()
        and listener.ssl_policy == ssl_policy
        and listener.certificates == [c.get("CertificateArn") for c in certificates or []][:1]
        and [a.data for a in listener.default_actions] == wanted
        and listener.alpn_policy == (alpn or [])
    )


def create_listener(self):
    backend = self.elbv2_backend
    params = self._get_params()
    lb_arn = self._get_param("LoadBalancerArn")
    protocol = self._get_param("Protocol")
    port = self._get_param("Port")
    ssl_policy = self._get_param("SslPolicy")
    certificates = self._get_param("Certificates") or []
    actions = params.get("DefaultActions", [])
    alpn = params.get("AlpnPolicy", [])
    balancer = backend.load_balancers.get(lb_arn)
    if balancer is None:
        raise LoadBalancerNotFoundError()
    backend._validate_port_and_protocol(balancer.type, port, protocol)
    _check_tls(backend, protocol, ssl_policy, certificates)
    if protocol in TLS_PROTOCOLS and ssl_policy is None:
        ssl_policy = DEFAULT_SSL_POLICY
    _check_redirects(actions, protocol)
    for existing in balancer.listeners.values():
        if str(existing.port) == str(port):
            if _same_listener(existing, protocol, ssl_policy, certificates, actions, alpn):
                return ActionResult({"Listeners": [existing]})
            raise DuplicateListenerError()
    listener = backend.create_listener(
        load_balancer_arn=lb_arn,
        protocol=protocol,
        port=port,
        ssl_policy=ssl_policy,
        certificate=certificates[0].get("CertificateArn") if certificates else None,
        actions=actions,
        alpn_policy=alpn,
        tags=params.get("Tags"),
    )
    return ActionResult({"Listeners": [listener]})


elb_responses.ELBV2Response.create_listener = create_listener


def modify_listener(self):
    backend = self.elbv2_backend
    arn = self._get_param("ListenerArn")
    port = self._get_param("Port")
    protocol = self._get_param("Protocol")
    ssl_policy = self._get_param("SslPolicy")
    certificates = self._get_param("Certificates") or []
    actions = self._get_param("DefaultActions") or []
    listener = backend.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]
    balancer = backend.load_balancers[listener.load_balancer_arn]
    was_tls = listener.protocol in TLS_PROTOCOLS
    protocol_after = protocol or listener.protocol
    kept = listener.certificates if was_tls and protocol_after in TLS_PROTOCOLS else ()
    _check_tls(backend, protocol_after, ssl_policy, certificates, kept)
    if port is not None and any(
        str(other.port) == str(port) and other.arn != arn for other in balancer.listeners.values()
    ):
        raise DuplicateListenerError()
    _check_redirects(actions, protocol_after)
    listener = backend.modify_listener(arn, port, protocol, ssl_policy, certificates, actions)
    if protocol_after in TLS_PROTOCOLS:
        listener.ssl_policy = listener.ssl_policy or DEFAULT_SSL_POLICY
    elif was_tls:
        listener.certificate, listener.certificates, listener.ssl_policy = None, [], None
    return ActionResult({"Listeners": [listener]})


elb_responses.ELBV2Response.modify_listener = modify_listener

# ---------------------------------------------------------------- Route 53


def _reversed(name):
    return ".".join(reversed(_bare(name).split(".")))


_create_zone = r53_models.Route53Backend.create_hosted_zone


def create_hosted_zone(self, name, *args, **kwargs):
    return _create_zone(self, name.lower(), *args, **kwargs)


r53_models.Route53Backend.create_hosted_zone = create_hosted_zone


def list_hosted_zones_by_name(self):
    dns_name = self._get_param("DNSName")
    zone_id = self._get_param("HostedZoneId")
    max_items = self._get_int_param("MaxItems", 100)
    key = lambda z: (_reversed(z.name), z.resource_id)  # noqa: E731
    zones = sorted(self.backend.zones.values(), key=key)
    if dns_name:
        start = (_reversed(dns_name), (zone_id or "").replace("/hostedzone/", ""))
        zones = [z for z in zones if key(z) >= start]
    page, rest = zones[:max_items], zones[max_items:]
    result = {
        "HostedZones": page,
        "DNSName": dns_name,
        "HostedZoneId": zone_id,
        "IsTruncated": bool(rest),
        "MaxItems": max_items,
    }
    if rest:
        result["NextDNSName"] = rest[0].name
        result["NextHostedZoneId"] = rest[0].resource_id
    return ActionResult(result)


r53_responses.Route53.list_hosted_zones_by_name = list_hosted_zones_by_name

_list_rrsets = r53_models.Route53Backend.list_resource_record_sets


def list_resource_record_sets(self, zone_id, start_type, start_name, max_items):
    return _list_rrsets(self, zone_id, start_type, start_name.lower() if start_name else start_name, max_items)


r53_models.Route53Backend.list_resource_record_sets = list_resource_record_sets


def _batch_error(message):
    return Route53ClientError("InvalidChangeBatch", message)


def _check_alias(account_id, record):
    target = record["AliasTarget"]
    dns, zone_id = target.get("DNSName") or "", target.get("HostedZoneId")
    bare = _bare(dns)
    if bare.startswith("dualstack."):
        bare = bare[len("dualstack.") :]
    if not bare.endswith(".elb.amazonaws.com"):
        return
    labels = bare.split(".")
    region = labels[-4] if len(labels) >= 5 else ""
    balancer = None
    try:
        backend = elb_models.elbv2_backends[account_id][region]
        balancer = next((lb for lb in backend.load_balancers.values() if _bare(lb.dns_name) == bare), None)
    except KeyError:
        pass
    head = f"Tried to create an alias that targets {_fqdn(dns)}, type {record.get('Type')} in zone {zone_id}"
    if balancer is not None and zone_id == balancer.canonical_hosted_zone_id:
        return
    if balancer is None and zone_id in (ALB_ZONES.get(region), NLB_ZONES.get(region)):
        raise _batch_error(f"{head}, but that target was not found")
    raise _batch_error(f"{head}, but the alias target name does not lie within the target zone")


def _same_values(current, wanted):
    if current.alias_target or wanted.get("AliasTarget"):
        a, b = current.alias_target or {}, wanted.get("AliasTarget") or {}
        return a.get("HostedZoneId") == b.get("HostedZoneId") and _fqdn(a.get("DNSName")) == _fqdn(b.get("DNSName"))
    ttl_a, ttl_b = current.ttl, wanted.get("TTL")
    same_ttl = ttl_a is not None and ttl_b is not None and int(ttl_a) == int(ttl_b)
    values = sorted(_value(v) for v in current.records or [])
    return same_ttl and values == sorted(wanted.get("ResourceRecords") or [])


def change_resource_record_sets(self, zoneid, change_list):
    zone = self.get_hosted_zone(zoneid)
    work = list(zone.rrsets)  # applied to the zone only when every change is valid
    for change in change_list:
        action = change.get("Action")
        if action not in ("CREATE", "UPSERT", "DELETE"):
            raise InvalidActionValue(action)
        record = copy.deepcopy(change["ResourceRecordSet"])
        validate_domain_name(record["Name"], code="InvalidChangeBatch")
        name = record["Name"] = _fqdn(record["Name"])
        if not _in_zone(name, zone.name):
            raise DnsNameInvalidForZone(name=name, zone_name=_fqdn(zone.name))
        if "ResourceRecords" in record:
            record["ResourceRecords"] = [_value(r) for r in record["ResourceRecords"]]
        if record.get("AliasTarget"):
            record["AliasTarget"]["DNSName"] = _fqdn(record["AliasTarget"].get("DNSName"))
            if action != "DELETE":
                _check_alias(self.account_id, record)
        key = (name, record.get("Type"), record.get("SetIdentifier"))
        index = next(
            (i for i, r in enumerate(work) if (_fqdn(r.name), r.type, r.set_identifier) == key),
            None,
        )
        what = f"resource record set [name='{name}', type='{record.get('Type')}']"
        if action == "CREATE":
            if index is not None:
                raise ResourceRecordAlreadyExists(name=name, _type=record.get("Type"))
            work.append(r53_models.RecordSet(record))
        elif action == "UPSERT":
            if index is None:
                work.append(r53_models.RecordSet(record))
            else:
                work[index] = r53_models.RecordSet(record)
        elif index is None:
            raise _batch_error(f"Tried to delete {what} but it was not found")
        elif not _same_values(work[index], record):
            raise _batch_error(f"Tried to delete {what} but the values provided do not match the current values")
        else:
            del work[index]
    zone.rrsets = work


r53_models.Route53Backend.change_resource_record_sets = change_resource_record_sets
