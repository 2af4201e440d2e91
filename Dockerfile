# CPU image by default. For NVIDIA GPUs build with:
#   docker build --build-arg ORT_INSTALL=cuda12 -t fotofun-ai:gpu .
# and run with `--gpus all` on a host with the NVIDIA container toolkit; the service then finds the
# CUDA execution provider and places models on the GPU (DEVICE=auto).
FROM node:20-bookworm-slim AS build
ARG ORT_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ORT_INSTALL}
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# node:20 ships npm 10, which runs install scripts: better-sqlite3 builds, and onnxruntime-node fetches
# the CUDA provider when ORT_INSTALL=cuda12.
RUN sed -i "s/^onnxruntime-node-install=.*/onnxruntime-node-install=${ORT_INSTALL}/" .npmrc && npm ci --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8080 MODEL_DIR=/models DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json models.manifest.json tsconfig.json ./
COPY src ./src
RUN mkdir -p /models /data && chown -R node:node /models /data
USER node
VOLUME ["/models", "/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/ready').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["npm", "start"]
