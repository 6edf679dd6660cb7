/**
 * The spec of a user-supplied feature model ({source, name}) and its validation: no tfjs here, so
 * the extension host can check its setting without loading the engine.
 */
import { UserError } from '../errors';

/** A user-supplied TF.js image model (e.g. Inception-v3) used under `name` in metric names (fid5k_inception_v3). */
export interface FeatureModelSpec {
  /** model.json path, its folder, or an http(s) URL (downloaded once into the cache). */
  source: string;
  /** Extractor name in metric names ([A-Za-z0-9_.-], not 'lenet'). */
  name: string;
}

const EXTRACTOR_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Checks a feature-model spec; throws UserError naming what is wrong. */
export function validateFeatureModel(spec: FeatureModelSpec, where = 'The feature model'): FeatureModelSpec {
  const source = typeof spec?.source === 'string' ? spec.source.trim() : '';
  const name = typeof spec?.name === 'string' ? spec.name.trim() : '';
  if (!source) throw new UserError(`${where} has no source.`, 'Give the path or http(s) URL of a TF.js model.json (e.g. an Inception-v3 graph model).');
  if (!EXTRACTOR_NAME_RE.test(name)) {
    throw new UserError(`${where} needs a name of letters, digits, "_", "." or "-" (got '${name}').`, 'The name goes into metric names: fid5k_<name>, e.g. fid5k_inception_v3.');
  }
  if (name === 'lenet') throw new UserError(`${where} cannot be called 'lenet': that name is the built-in MNIST extractor.`, 'Pick another name, e.g. inception_v3.');
  return { source, name };
}
