#!/usr/bin/env node
// Translates text with a dragoman server through code generated from proto/ by buf
// (protoc-gen-es) and Connect-ES speaking the gRPC protocol over HTTP/2.
//
//   npm run generate    # once: buf generate ../../proto -> gen/ (not committed)
//   node translate-connect.mjs --address 127.0.0.1:50051 --to fra_Latn [--from eng_Latn]
//                              [--stream] [--api-key KEY] TEXT...
//
// Prints one JSON object per translation.
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { TranslationService } from './gen/dragoman/translation/v1/translation_service_pb.js';

function parseArgs(argv) {
  const args = { address: process.env.DRAGOMAN_ADDRESS || '127.0.0.1:50051', from: '', texts: [] };
  const flags = {
    '--address': (v) => { args.address = v; },
    '--to': (v) => { args.to = v; },
    '--from': (v) => { args.from = v; },
    '--api-key': (v) => { args.apiKey = v; },
  };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--stream') args.stream = true;
    else if (flags[argv[i]]) flags[argv[i]](argv[(i += 1)]);
    else args.texts.push(argv[i]);
  }
  if (!args.to || !args.texts.length) throw new Error('usage: --to CODE TEXT...');
  args.apiKey = args.apiKey || process.env.DRAGOMAN_API_KEY;
  return args;
}

async function* segments(args) {
  yield { streamingRequest: { case: 'config', value: {
    sourceLanguageCode: args.from, targetLanguageCode: args.to,
  } } };
  for (const [i, text] of args.texts.entries()) {
    yield { streamingRequest: { case: 'segment', value: { segmentId: String(i), text } } };
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const transport = createGrpcTransport({ baseUrl: `http://${args.address}` });
  const client = createClient(TranslationService, transport);
  const options = {
    timeoutMs: 30000,
    headers: args.apiKey ? { authorization: `Bearer ${args.apiKey}` } : {},
  };
  if (args.stream) {
    for await (const r of client.streamTranslateText(segments(args), options)) {
      if (r.isFinal) console.log(JSON.stringify({ segment_id: r.segmentId, translation: r.translatedText }));
    }
    return;
  }
  const response = await client.translateText({
    contents: args.texts, sourceLanguageCode: args.from, targetLanguageCode: args.to,
  }, options);
  response.translations.forEach((t, i) => console.log(JSON.stringify({
    source: args.texts[i], translation: t.translatedText,
    detected_language: t.detectedLanguageCode, model: t.model,
  })));
}

main().catch((error) => {
  const e = ConnectError.from(error);
  console.error(`dragoman: ${Code[e.code]}: ${e.rawMessage}`);
  process.exit(e.code === Code.InvalidArgument ? 2 : 1);
});
