"""Registry-aware promotion over the OCI distribution API.

    reference.py  ImageRef -> Endpoint (origin, repository); Docker Hub and loopback rules
    safety.py     the origin rule and redaction (credentials stay on their origin)
    transport.py  HTTP over requests: bounded, redirects followed by hand
    auth.py       where registry credentials come from; the Bearer token challenge
    realms.py     token realms remembered between runs (and Docker Hub's, known)
    client.py     manifests (HEAD/GET) and blobs, with the auth dance
    check.py      what a promotion asks: exists, digest, same digest, labels
    labels.py     OCI labels -> the "what changed" lines of the pull request
    options.py    the command line's settings (Options)
    gate.py       the promotion's registry step: decide, check, provenance

Nothing here is imported by ``promoter --help``: requests loads in transport.py
only, when a check runs.
"""
