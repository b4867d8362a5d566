/*
 * regions.js - the safety regions' codes and names (proper names, the same
 * in every language; config/routing/regions.json is the source) for the
 * region pickers and for showing a region code with its name.
 */
import {t} from './i18n.js';

export const REGIONS = [
	['VR01', 'Groningen'], ['VR02', 'Fryslân'], ['VR03', 'Drenthe'],
	['VR04', 'IJsselland'], ['VR05', 'Twente'],
	['VR06', 'Noord- en Oost-Gelderland'], ['VR07', 'Gelderland-Midden'],
	['VR08', 'Gelderland-Zuid'], ['VR09', 'Utrecht'],
	['VR10', 'Noord-Holland Noord'], ['VR11', 'Zaanstreek-Waterland'],
	['VR12', 'Kennemerland'], ['VR13', 'Amsterdam-Amstelland'],
	['VR14', 'Gooi en Vechtstreek'], ['VR15', 'Haaglanden'],
	['VR16', 'Hollands Midden'], ['VR17', 'Rotterdam-Rijnmond'],
	['VR18', 'Zuid-Holland Zuid'], ['VR19', 'Zeeland'],
	['VR20', 'Midden- en West-Brabant'], ['VR21', 'Brabant-Noord'],
	['VR22', 'Brabant-Zuidoost'], ['VR23', 'Limburg-Noord'],
	['VR24', 'Zuid-Limburg'], ['VR25', 'Flevoland']
];

const NAMES = Object.fromEntries(REGIONS);

/* "VR13" -> "VR13 Amsterdam-Amstelland"; NATIONAL -> the national desk. */
export function regionName(code) {
	if (code === 'NATIONAL')
		return t('region.NATIONAL');
	return NAMES[code] ? `${code} ${NAMES[code]}` : String(code || '');
}

/* [code, label] pairs for a select, the national desk last. */
export const regionOptions = () =>
	[...REGIONS.map(([c]) => [c, regionName(c)]),
	 ['NATIONAL', regionName('NATIONAL')]];
