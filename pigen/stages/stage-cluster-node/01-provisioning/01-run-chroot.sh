#!/bin/bash -e
# Runs at every first boot until it has provisioned the node once.
systemctl enable cluster-node-provision.service
