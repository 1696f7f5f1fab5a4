#!/usr/bin/env bash
# version of the Temporal server the compose file and the cluster tests use
server_version=v1.29.1
