import { version } from '../../package.json';

/** This tool's version, from package.json (the one place semantic-release writes it). */
export const TOOL_VERSION: string = version;
export const TOOL_NAME = 'pi-image-release';
