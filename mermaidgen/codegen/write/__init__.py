"""Turning rendered templates into files on disk without losing anyone's work: rendering in
a sandbox (`render`, `sandbox`), planning the writes against the manifest (`output`),
swapping them in atomically (`swap`, `safefs`), and the checks of user-owned hook modules
(`user_code`)."""
