#!/usr/bin/env node
// Translates text with a dragoman server from Node.js (@grpc/grpc-js + @grpc/proto-loader).
//
//   node translate.cjs --address 127.0.0.1:50051 --to fra_Latn [--from eng_Latn] [--stream]
//                     [--api-key KEY] [--ca ca.pem] TEXT...
//
// Several --address flags are balanced round-robin. UNAVAILABLE and RESOURCE_EXHAUSTED are
// retried by gRPC's own retry policy (service config), with exponential backoff and jitter.
// Prints one JSON object per translation.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = process.env.DRAGOMAN_PROTO_DIR || path.join(__dirname, '..', '..', 'proto');
const PROTO_FILE = 'dragoman/translation/v1/translation_service.proto';
const SERVICE = 'dragoman.translation.v1.TranslationService';

function parseArgs(argv) {
  const args = { addresses: [], texts: [], from: '', to: '', stream: false, timeoutS: 30 };
  const flags = {
    '--address': (v) => args.addresses.push(...v.split(',')),
    '--to': (v) => { args.to = v; },
    '--from': (v) => { args.from = v; },
    '--model': (v) => { args.model = v; },
    '--api-key': (v) => { args.apiKey = v; },
    '--ca': (v) => { args.ca = v; },
    '--timeout': (v) => { args.timeoutS = Number(v); },
  };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--stream') args.stream = true;
    else if (flags[argv[i]]) flags[argv[i]](argv[(i += 1)]);
    else args.texts.push(argv[i]);
  }
  if (!args.to) throw new Error('--to CODE is required');
  if (!args.texts.length) throw new Error('give at least one TEXT');
  if (!args.addresses.length) args.addresses.push(process.env.DRAGOMAN_ADDRESS || '127.0.0.1:50051');
  args.apiKey = args.apiKey || process.env.DRAGOMAN_API_KEY;
  return args;
}

// One address as is (DNS, e.g. a headless Service); several as an ipv4: list.
function target(addresses) {
  return addresses.length === 1 ? addresses[0] : `ipv4:${addresses.join(',')}`;
}

const SERVICE_CONFIG = {
  loadBalancingConfig: [{ round_robin: {} }],
  methodConfig: [{
    name: [{ service: SERVICE }],
    retryPolicy: {
      maxAttempts: 5,
      initialBackoff: '0.1s',
      maxBackoff: '2s',
      backoffMultiplier: 2,
      retryableStatusCodes: ['UNAVAILABLE', 'RESOURCE_EXHAUSTED'],
    },
  }],
};

function makeClient(args) {
  const definition = protoLoader.loadSync(PROTO_FILE, {
    includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true,
  });
  const { TranslationService } = grpc.loadPackageDefinition(definition).dragoman.translation.v1;
  const credentials = args.ca
    ? grpc.credentials.createSsl(fs.readFileSync(args.ca))
    : grpc.credentials.createInsecure();
  return new TranslationService(target(args.addresses), credentials, {
    'grpc.service_config': JSON.stringify(SERVICE_CONFIG),
    'grpc.keepalive_time_ms': 60000,
    'grpc.keepalive_timeout_ms': 20000,
  });
}

function callOptions(args) {
  return { deadline: new Date(Date.now() + args.timeoutS * 1000) };
}

function metadata(args) {
  const md = new grpc.Metadata();
  if (args.apiKey) md.set('authorization', `Bearer ${args.apiKey}`);
  return md;
}

function translate(client, args) {
  const request = {
    contents: args.texts,
    source_language_code: args.from,
    target_language_code: args.to,
    model: args.model || '',
  };
  return new Promise((resolve, reject) => {
    client.TranslateText(request, metadata(args), callOptions(args), (error, response) => {
      if (error) return reject(error);
      response.translations.forEach((t, i) => console.log(JSON.stringify({
        source: args.texts[i], translation: t.translated_text,
        detected_language: t.detected_language_code, model: t.model,
      })));
      return resolve();
    });
  });
}

function stream(client, args) {
  return new Promise((resolve, reject) => {
    const call = client.StreamTranslateText(metadata(args), callOptions(args));
    call.on('data', (r) => {
      if (r.is_final) {
        console.log(JSON.stringify({ segment_id: r.segment_id, translation: r.translated_text }));
      }
    });
    call.on('error', reject);
    call.on('end', resolve);
    call.write({ config: {
      source_language_code: args.from, target_language_code: args.to, model: args.model || '',
    } });
    args.texts.forEach((text, i) => call.write({ segment: { segment_id: String(i), text } }));
    call.end();
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const client = makeClient(args);
  try {
    await (args.stream ? stream(client, args) : translate(client, args));
  } finally {
    client.close();
  }
}

main().catch((error) => {
  const code = error.code !== undefined ? `${grpc.status[error.code]}: ` : '';
  console.error(`dragoman: ${code}${error.details || error.message}`);
  process.exit(error.code === grpc.status.INVALID_ARGUMENT ? 2 : 1);
});
