"""Elastic Load Balancing v2 listener rules in moto 5.2.5, put right (ELB User Guide,
"Listener rules for your Application Load Balancer" and "Quotas for your Application Load
Balancers"; ELB API Reference, SetRulePriorities):

- A rule holds at most 5 condition values and 5 wildcards (`*`, `?`) across its conditions;
  path patterns take letters, digits and `_-.$/~"'@:+&*?`, host names letters, digits and
  `-.*?` (ValidationError). moto takes any number of anything.
- SetRulePriorities "can reorder the rules as long as there are no priority conflicts in the
  new order": the result is checked, not each step. moto refuses a new priority another rule
  holds now, even one the same call moves away (a swap), which AWS accepts.
"""
import re

from moto.elbv2 import models as elb_models
from moto.elbv2.exceptions import (
    DuplicatePriorityError,
    InvalidConditionValueError,
    PriorityInUseError,
    RuleNotFoundError,
)

MAX_VALUES = 5
MAX_WILDCARDS = 5
PATH = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]+$")
# Letters, digits, `-.*?`; the last label letters (or wildcards): no IP address.
HOST = re.compile(r"^[A-Za-z0-9\-.*?]*\.[A-Za-z*?]+$")


def _values(condition, config):
    return (condition.get(config) or {}).get("Values") or condition.get("Values") or []


_validate_conditions = elb_models.ELBv2Backend._validate_conditions


def validate_conditions(self, conditions):
    _validate_conditions(self, conditions)
    count = wildcards = 0
    for c in conditions or []:
        field = c.get("Field")
        if field == "path-pattern":
            values, pattern = _values(c, "PathPatternConfig"), PATH
        elif field == "host-header":
            values, pattern = _values(c, "HostHeaderConfig"), HOST
        else:
            continue
        for v in values:
            if not pattern.match(v):
                raise InvalidConditionValueError(f"The '{field}' value '{v}' contains invalid characters")
            wildcards += v.count("*") + v.count("?")
        count += len(values)
    if count > MAX_VALUES:
        raise InvalidConditionValueError(f"A rule can only have '{MAX_VALUES}' condition values")
    if wildcards > MAX_WILDCARDS:
        raise InvalidConditionValueError(f"A rule can only have '{MAX_WILDCARDS}' wildcards")


def set_rule_priorities(self, rule_priorities):
    priorities = [p["Priority"] for p in rule_priorities]
    for p in set(priorities):
        if priorities.count(p) > 1:
            raise DuplicatePriorityError(p)
    moved = {}
    for p in rule_priorities:
        rules = self.describe_rules(listener_arn=None, rule_arns=[p["RuleArn"]])
        if not rules:
            raise RuleNotFoundError()
        moved[p["RuleArn"]] = (rules[0], int(p["Priority"]))
    for rule, _ in moved.values():
        listener = self.describe_listeners(None, [rule.listener_arn])[0]
        final = [
            moved[arn][1] if arn in moved else r.priority
            for arn, r in listener.rules.items()
            if r.priority != "default"
        ]
        final = [int(x) for x in final]
        if len(final) != len(set(final)):
            raise PriorityInUseError()
    for rule, priority in moved.values():
        rule.priority = priority
    return [rule for rule, _ in moved.values()]


elb_models.ELBv2Backend._validate_conditions = validate_conditions
elb_models.ELBv2Backend.set_rule_priorities = set_rule_priorities
