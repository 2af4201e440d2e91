# Two images from one file:
#   docker build --target cpu -t fotofun-ai:cpu .
#   docker build --target gpu --build-arg ORT_INSTALL=cuda12 -t fotofun-ai:gpu .
# Both run the compiled service (`node dist/main.js`) with production dependencies only. The GPU
# image starts from NVIDIA's CUDA 12 + cuDNN 9 runtime, so the libraries onnxruntime's CUDA
# provider loads (libcudart, libcublas, libcudnn) resolve; run it with `--gpus all` on a host with
# the NVIDIA container toolkit.
FROM node:20-bookworm-slim AS build
ARG ORT_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ORT_INSTALL}
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# `npm ci` runs the package's prepare script, which builds the client SDK the playground loads.
COPY packages/client ./packages/client
# npm 10 runs install scripts: better-sqlite3 builds, and onnxruntime-node fetches the CUDA
# provider when ORT_INSTALL=cuda12.
RUN sed -i "s/^onnxruntime-node-install=.*/onnxruntime-node-install=${ORT_INSTALL}/" .npmrc && npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY models.manifest.json ./
# The int8 converter's calibration photos: the store builds isnet-general-int8 from them at pull time.
COPY calibration ./calibration
COPY playground ./playground
# What both images run, gathered in one folder so each copies it with a single step.
RUN npm run build && npm prune --omit=dev && mkdir -p /out/packages/client && cp -r node_modules dist package.json models.manifest.json calibration playground /out/ && cp -r packages/client/dist /out/packages/client/

FROM node:20-bookworm-slim AS cpu
ENV NODE_ENV=production PORT=8080 MODEL_DIR=/models DATA_DIR=/data
COPY --from=build /out /app
WORKDIR /app
RUN mkdir -p /models /data && chown -R node:node /models /data
USER node
VOLUME ["/models", "/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/main.js"]

# Ubuntu 24.04's glibc is newer than bookworm's, so the node binary and the native modules built
# above run unchanged.
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 AS gpu
ENV NODE_ENV=production PORT=8080 MODEL_DIR=/models DATA_DIR=/data DEVICE=auto
COPY --from=build /usr/local/bin/node /usr/local/bin/node
COPY --from=build /out /app
WORKDIR /app
RUN mkdir -p /models /data && chown -R ubuntu:ubuntu /models /data
USER ubuntu
VOLUME ["/models", "/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/main.js"]
