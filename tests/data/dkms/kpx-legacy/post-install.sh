#!/bin/sh
# Vendor hook DKMS would run after installing; not carried into kmods.
exit 0
