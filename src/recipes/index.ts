/** @file The recipe registry: the `--recipe` names of `heist steal` and the list of `heist recipes`. */
import { Registry } from '../core/registry.js';
import { activethiefPal2020 } from './activethief-pal-2020.js';
import { copycatCorreia2018 } from './copycat-correia-2018.js';
import { dfmeTruong2021 } from './dfme-truong-2021.js';
import { heist } from './heist.js';
import { jbdaPapernot2017 } from './jbda-papernot-2017.js';
import { knockoffOrekondy2019 } from './knockoff-orekondy-2019.js';
import type { RecipeEntry, RecipeParts } from './types.js';

export const recipes = new Registry<undefined, RecipeParts, RecipeEntry>('recipe', [
  heist,
  knockoffOrekondy2019,
  copycatCorreia2018,
  activethiefPal2020,
  jbdaPapernot2017,
  dfmeTruong2021,
]);

export type { RecipeEntry, RecipeParts } from './types.js';
