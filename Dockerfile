# syntax=docker/dockerfile:1
# Debian (glibc) base: sharp, argon2 and PGlite ship prebuilt glibc binaries; alpine (musl) would need rebuilds.
# Node 20 is what CI tests on (package.json engines). It left LTS support in April 2026:
# move CI and this image to a supported line (22/24) together, never one without the other.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies only, non-root ----
FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX=2: fewer glibc arenas under concurrent sharp decoding (peak RSS 504 → 413 MB
# in the sensor benchmark, docs/performance.md)
ENV NODE_ENV=production \
    PORT=8080 \
    MALLOC_ARENA_MAX=2 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# the image's built-in unprivileged user (uid 1000); the app writes nothing to disk
USER node
EXPOSE 8080
# node itself is PID 1 (not npm), so Cloud Run's SIGTERM reaches the graceful shutdown in main.ts
CMD ["node", "dist/main.js"]
