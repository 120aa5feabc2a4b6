#!/usr/bin/env bash
# Registers one Debezium MongoDB connector per shard on Kafka Connect from connectors/mongodb-shard.json. The
# connection string is not in the JSON: it is a reference to Connect's file config provider, resolved from the
# mounted secrets file (mongodb.properties: <shard>.uri=...).
set -euo pipefail
connect="${CONNECT_URL:?CONNECT_URL is required}"
template="${CONNECTOR_TEMPLATE:-/connectors/mongodb-shard.json}"
secrets="${SECRETS_FILE:-/etc/kafka-connect/secrets/mongodb.properties}"
replication="${REPLICATION_FACTOR:-1}"
for shard in ${SHARD_IDS:?SHARD_IDS is required}; do
  uri="\${file:${secrets}:${shard}.uri}"
  body="$(sed -e "s|{{SHARD_ID}}|${shard}|g" -e "s|{{MONGODB_URI}}|${uri}|g" -e "s|{{REPLICATION_FACTOR}}|${replication}|g" "${template}")"
  code="$(curl -sS -o /tmp/connect-answer -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data "${body}" "${connect}/connectors")"
  case "${code}" in
    201) echo "registered the connector of ${shard}" ;;
    409) echo "the connector of ${shard} exists already" ;;
    *) echo "registering the connector of ${shard} failed (${code}):" >&2; cat /tmp/connect-answer >&2; exit 1 ;;
  esac
done
for shard in ${SHARD_IDS}; do
  until curl -fsS "${connect}/connectors/shardline-cdc-${shard}/status" | grep -q '"state":"RUNNING"'; do sleep 2; done
  echo "shardline-cdc-${shard} RUNNING"
done
