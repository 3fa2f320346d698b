// k8s.mjs - Kubernetes manifests checked without a cluster, for tests/integration/deploy.test.
//
//   node k8s.mjs validate FILE...         every document against the Kubernetes API schema
//   node k8s.mjs configmap FILE NAME KEY  print data[KEY] of ConfigMap NAME, byte for byte
//   node k8s.mjs kustomization DIR        the base's resources exist, and every manifest is one
//
// validate: each document's apiVersion and kind pick the kubernetes-models class
// (`kubernetes-models/apps/v1` Deployment, ...), whose validate() checks types,
// required fields and formats against the API's OpenAPI schema. That schema
// allows unknown fields (the API server does not: kubectl's strict field
// validation refuses them), so every key outside the free-form maps must also
// be a field name the schema knows anywhere. Prints `ok FILE KIND/NAME` per
// document, or `error FILE: KIND/NAME: message` and exits 1.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import YAML from 'yaml';

const require = createRequire(import.meta.url);

// Maps whose keys are data, not fields: their keys are not checked.
const FREE_FORM = new Set(['labels', 'annotations', 'matchLabels', 'data', 'stringData',
	'binaryData', 'limits', 'requests', 'nodeSelector', 'selector', 'capacity']);

// Every property name the API schema knows (read from the compiled validators).
function knownFields() {
	const dirs = [path.dirname(require.resolve('kubernetes-models/package.json')),
		path.dirname(require.resolve('@kubernetes-models/apimachinery/package.json'))];
	const names = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
	for (const d of dirs) {
		const s = path.join(d, '_schemas');
		for (const f of fs.readdirSync(s).filter((f) => f.endsWith('.js'))) {
			const text = fs.readFileSync(path.join(s, f), 'utf8');
			for (const m of text.matchAll(/missingProperty:"([A-Za-z0-9_$]+)"|void 0===data\.([A-Za-z0-9_$]+)/g))
				names.add(m[1] || m[2]);
		}
	}
	return names;
}

// The keys of obj (recursively) that no schema knows, as JSON paths.
function unknownKeys(obj, known, at = '') {
	const out = [];
	if (Array.isArray(obj)) {
		obj.forEach((v, i) => out.push(...unknownKeys(v, known, `${at}/${i}`)));
	} else if (obj !== null && typeof obj === 'object') {
		for (const [k, v] of Object.entries(obj)) {
			if (!known.has(k))
				out.push(`${at}/${k}`);
			else if (!FREE_FORM.has(k))
				out.push(...unknownKeys(v, known, `${at}/${k}`));
		}
	}
	return out;
}

// The kubernetes-models class for apiVersion and kind, or null.
async function modelClass(apiVersion, kind) {
	if (typeof apiVersion !== 'string' || typeof kind !== 'string')
		return null;
	try {
		const mod = await import(`kubernetes-models/${apiVersion}`);
		return mod[kind] || null;
	} catch {
		return null;
	}
}

// validate FILE...: 0 when every document of every file is valid.
async function validate(files) {
	const known = knownFields();
	let bad = 0;
	for (const file of files) {
		const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
		for (const doc of docs) {
			if (doc.errors.length > 0) {
				console.log(`error ${file}: YAML: ${doc.errors[0].message}`);
				bad++;
				continue;
			}
			const obj = doc.toJS();
			if (obj === null)
				continue;
			const id = `${obj.kind}/${obj.metadata?.name ?? '?'}`;
			const Cls = await modelClass(obj.apiVersion, obj.kind);
			const unknown = unknownKeys(obj, known);
			try {
				if (Cls === null)
					throw new Error(`no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
				new Cls(obj).validate();
				if (unknown.length > 0)
					throw new Error(`unknown field(s): ${unknown.join(', ')}`);
				console.log(`ok ${file} ${id}`);
			} catch (e) {
				console.log(`error ${file}: ${id}: ${e.message}`);
				bad++;
			}
		}
	}
	return bad === 0 ? 0 : 1;
}

// configmap FILE NAME KEY: print the value, byte for byte.
function configmap(file, name, key) {
	for (const doc of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
		const obj = doc.toJS();
		if (obj?.kind === 'ConfigMap' && obj.metadata?.name === name && key in (obj.data ?? {})) {
			process.stdout.write(obj.data[key]);
			return 0;
		}
	}
	console.error(`${file}: no ConfigMap ${name} with key ${key}`);
	return 1;
}

// kustomization DIR: resources exist; every *.yaml of DIR is a resource.
function kustomization(dir) {
	const k = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
	const res = new Set(k.resources ?? []);
	let bad = 0;
	for (const r of res) {
		if (!fs.existsSync(path.join(dir, r))) {
			console.log(`error ${dir}/kustomization.yaml: resource ${r} does not exist`);
			bad++;
		}
	}
	for (const f of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
		if (f !== 'kustomization.yaml' && !res.has(f)) {
			console.log(`error ${dir}/${f}: not listed in kustomization.yaml resources`);
			bad++;
		}
	}
	if (bad === 0)
		console.log(`ok ${dir}/kustomization.yaml: ${res.size} resources`);
	return bad === 0 ? 0 : 1;
}

const [cmd, ...args] = process.argv.slice(2);
const cmds = {
	validate: () => validate(args),
	configmap: () => configmap(args[0], args[1], args[2]),
	kustomization: () => kustomization(args[0]),
};
if (!(cmd in cmds)) {
	console.error('usage: node k8s.mjs validate FILE... | configmap FILE NAME KEY | kustomization DIR');
	process.exit(2);
}
process.exitCode = await cmds[cmd]();
