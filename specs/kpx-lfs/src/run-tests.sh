#!/bin/sh
# kpx-lfs example: load the test module and unload it again.
set -e
modprobe kpx_lustre_tests
modprobe -r kpx_lustre_tests
