"""moto server for runs with IAM enforcement on (tests/iam_enforced.rs).

AWS checks a SigV4 signature against the request bytes as sent. moto 5.2.5 checks it against
the form body rebuilt from the parsed parameters, encoded as botocore encodes (a space is `+`);
other SDKs (the Rust SDK among them) encode a space as `%20`, so moto refuses every signed
request with a space in a parameter (a role's or a security group's description) with
SignatureDoesNotMatch, which AWS accepts. Here a signature that does not match the botocore
encoding is checked again against the `%20` encoding, the SDKs' other valid form.

moto also names the action by the signing name of the service; IAM's prefix differs for the
Resource Groups Tagging API (signing name `tagging`, actions `tag:GetResources`...).

Usage: python3 moto_enforcing.py [moto.server options]
"""
import sys
from urllib.parse import quote

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

if __name__ == "__main__":
    sys.exit(main())
