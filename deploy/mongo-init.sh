#!/usr/bin/env bash
# Initiates each shard's single-member replica set (change streams need a replica set), then waits for a primary.
set -euo pipefail
for shard in "$@"; do
  host="mongo-${shard}:27017"
  echo "initiating rs-${shard} on ${host}"
  mongosh --quiet --host "${host}" --eval "
    try { rs.status() } catch (e) { rs.initiate({_id: 'rs-${shard}', members: [{_id: 0, host: '${host}'}]}) }
    while (!db.hello().isWritablePrimary) { sleep(200) }"
done
