#!/usr/bin/env bash
# Installs what the test suite needs when it is missing and this machine can
# install it: OpenLDAP's slapd and ldap-utils (Debian packages). staticcheck
# needs no install: go.mod pins it as a tool (go tool staticcheck).
#
# A slapd that is still missing afterwards fails the run: make test sets
# USERSYNC_REQUIRE_SLAPD=1, so the LDAP tests fail rather than skip.
set -u
need_slapd=0
[ -x /usr/sbin/slapd ] || need_slapd=1
command -v ldapadd >/dev/null 2>&1 || need_slapd=1
if [ "$need_slapd" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: installing slapd and ldap-utils" >&2
    # Was a system slapd service running before the install? Only a
    # service this script's install started is stopped again.
    was_running=0
    if command -v service >/dev/null 2>&1 && service slapd status >/dev/null 2>&1; then
      was_running=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! (apt-get update -qq && apt-get install -y -qq --no-install-recommends slapd ldap-utils >/dev/null); then
      echo "test-deps: could not install slapd and ldap-utils; the LDAP tests need them" >&2
      exit 1
    fi
    # The package starts a system slapd; the tests run their own on a
    # random loopback port. Stop the service the install started, and
    # nothing else (never a machine-wide pkill).
    if [ "$was_running" = 0 ] && command -v service >/dev/null 2>&1 && service slapd status >/dev/null 2>&1; then
      service slapd stop >/dev/null 2>&1 || echo "test-deps: could not stop the slapd service the install started" >&2
    fi
  else
    echo "test-deps: slapd missing and cannot install it (need root and apt-get); install slapd and ldap-utils" >&2
    exit 1
  fi
fi
exit 0
