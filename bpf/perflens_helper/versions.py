"""The protocol and helper versions. version.json is their one source: src/capture/helperProtocol.ts
imports it too, and client and helper check each other's at start."""

import json

from . import resources

_V = json.loads(resources.read('version.json'))
PROTOCOL_VERSION = _V['protocol']
HELPER_VERSION = _V['helper']
