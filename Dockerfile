# syntax=docker/dockerfile:1
#
# socratic as a container: one static binary (CGO_ENABLED=0), run as an
# unprivileged user, data in the /data volume, PDFium's compiled code warmed
# at build time. See docs/operations.md.
#
#   docker build -t socratic .
#   docker run -d -p 8000:8000 -v socratic-data:/data \
#     -e ENV=production -e SECRET_KEY="$(openssl rand -base64 48)" socratic
#
# Base images are pinned to exact versions; bump them deliberately.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static, pure-Go binary: SQLite, PDFium (WebAssembly) and the embedding
# model's Go runtime need no C library. (ONNX Runtime needs cgo; in this
# image embeddings run on the pure-Go runtime, or point EMBEDDINGS_PROVIDER
# at an OpenAI-compatible server.)
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/socratic ./cmd/socratic \
 && mkdir -p /out/data /out/backups /out/cache /out/tmp

FROM scratch
# TLS roots for the model and voice providers; time zones are in the binary.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/socratic /usr/local/bin/socratic
# Folders the unprivileged user (65532, no login, no home) writes.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/backups /backups
COPY --from=build --chown=65532:65532 /out/cache /var/cache/socratic
COPY --from=build --chown=65532:65532 --chmod=1777 /out/tmp /tmp
USER 65532:65532
ENV DATA_DIR=/data \
    CACHE_DIR=/var/cache/socratic \
    HOST=0.0.0.0 \
    PORT=8000
# Compile PDFium now, into CACHE_DIR (outside the volume, so a new image
# brings its own): the first start does not spend seconds and memory on it.
RUN ["/usr/local/bin/socratic", "warm-cache"]
# Production from here on: the server refuses to start without a strong
# SECRET_KEY, and logs JSON.
ENV ENV=production
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/socratic", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/socratic"]
CMD ["serve"]
