// The view library (vendor/README.md): Preact with htm's templates, in one
// module. Screens import from here, never from vendor/ directly.
export {
  html, render, Component, createContext, useState, useReducer, useEffect,
  useLayoutEffect, useRef, useMemo, useCallback, useContext,
} from '../vendor/htm-3.1.1/preact-standalone.module.js';
