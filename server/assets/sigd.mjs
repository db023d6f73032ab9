// ES module entry of sigd.js (see the documentation at the top of that file):
//   import { connect, Client } from '/sigd.mjs';
//   import Sigd from '/sigd.mjs';
// sigd.js is a classic script that defines globalThis.Sigd; it runs the same
// way when imported as a module, so this wrapper only re-exports it.
import './sigd.js';

const Sigd = globalThis.Sigd;
export const {connect, Client, version} = Sigd;
export default Sigd;
