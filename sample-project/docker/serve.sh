#!/bin/sh
# A tiny HTTP responder: answers every request on port 8080 with the service's name.
echo "sample service ready on :8080"
while true; do
  printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsample service (%s)\n' "${SERVICE_ENVIRONMENT:-dev}" | nc -l -p 8080 >/dev/null 2>&1 || sleep 1
done
