#!/usr/bin/env bash
# Installs what the test suite needs when it is missing and this machine can
# install it: OpenLDAP's slapd and ldap-utils (Debian packages) and
# staticcheck. Tests that need slapd skip with a clear message when it is
# still missing.
set -u
need_slapd=0
[ -x /usr/sbin/slapd ] || need_slapd=1
command -v ldapadd >/dev/null 2>&1 || need_slapd=1
if [ "$need_slapd" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: installing slapd and ldap-utils" >&2
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends slapd ldap-utils >/dev/null) \
      || echo "test-deps: could not install slapd; LDAP integration tests will be skipped" >&2
    # The package starts a system slapd; the tests run their own.
    (service slapd stop >/dev/null 2>&1 || pkill -x slapd) 2>/dev/null || true
  else
    echo "test-deps: slapd missing and cannot install it (need root and apt-get); LDAP tests will be skipped" >&2
  fi
fi
if ! command -v staticcheck >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/staticcheck" ]; then
  echo "test-deps: installing staticcheck" >&2
  go install honnef.co/go/tools/cmd/staticcheck@2025.1.1 >/dev/null 2>&1 \
    || echo "test-deps: could not install staticcheck" >&2
fi
exit 0
