/** Serving networks (PLMN, MCC-MNC): country from the mobile country code, operator name for major networks. Pure. */

/**
 * Mobile country code (ITU-T E.212) → ISO 3166-1 alpha-2 country. Codes shared by several territories map to the main
 * one; networks of the others are told apart by MCC-MNC in `OPERATORS` (e.g. Jersey and the Isle of Man under 234).
 * XK (Kosovo) is the user-assigned code in common use.
 */
const MCC_COUNTRY: Readonly<Record<string, string>> = {
  // Europe (2xx)
  '202': 'GR', '204': 'NL', '206': 'BE', '208': 'FR', '212': 'MC', '213': 'AD', '214': 'ES', '216': 'HU', '218': 'BA',
  '219': 'HR', '220': 'RS', '221': 'XK', '222': 'IT', '225': 'VA', '226': 'RO', '228': 'CH', '230': 'CZ', '231': 'SK',
  '232': 'AT', '234': 'GB', '235': 'GB', '238': 'DK', '240': 'SE', '242': 'NO', '244': 'FI', '246': 'LT', '247': 'LV',
  '248': 'EE', '250': 'RU', '255': 'UA', '257': 'BY', '259': 'MD', '260': 'PL', '262': 'DE', '266': 'GI', '268': 'PT',
  '270': 'LU', '272': 'IE', '274': 'IS', '276': 'AL', '278': 'MT', '280': 'CY', '282': 'GE', '283': 'AM', '284': 'BG',
  '286': 'TR', '288': 'FO', '290': 'GL', '292': 'SM', '293': 'SI', '294': 'MK', '295': 'LI', '297': 'ME',
  // North America and the Caribbean (3xx)
  '302': 'CA', '308': 'PM', '310': 'US', '311': 'US', '312': 'US', '313': 'US', '314': 'US', '315': 'US', '316': 'US',
  '330': 'PR', '332': 'VI', '334': 'MX', '338': 'JM', '340': 'GP', '342': 'BB', '344': 'AG', '346': 'KY', '348': 'VG',
  '350': 'BM', '352': 'GD', '354': 'MS', '356': 'KN', '358': 'LC', '360': 'VC', '362': 'CW', '363': 'AW', '364': 'BS',
  '365': 'AI', '366': 'DM', '368': 'CU', '370': 'DO', '372': 'HT', '374': 'TT', '376': 'TC',
  // Asia and the Middle East (4xx)
  '400': 'AZ', '401': 'KZ', '402': 'BT', '404': 'IN', '405': 'IN', '406': 'IN', '410': 'PK', '412': 'AF', '413': 'LK',
  '414': 'MM', '415': 'LB', '416': 'JO', '417': 'SY', '418': 'IQ', '419': 'KW', '420': 'SA', '421': 'YE', '422': 'OM',
  '424': 'AE', '425': 'IL', '426': 'BH', '427': 'QA', '428': 'MN', '429': 'NP', '430': 'AE', '431': 'AE', '432': 'IR',
  '434': 'UZ', '436': 'TJ', '437': 'KG', '438': 'TM', '440': 'JP', '441': 'JP', '450': 'KR', '452': 'VN', '454': 'HK',
  '455': 'MO', '456': 'KH', '457': 'LA', '460': 'CN', '461': 'CN', '466': 'TW', '467': 'KP', '470': 'BD', '472': 'MV',
  // Oceania and South-East Asia (5xx)
  '502': 'MY', '505': 'AU', '510': 'ID', '514': 'TL', '515': 'PH', '520': 'TH', '525': 'SG', '528': 'BN', '530': 'NZ',
  '534': 'MP', '535': 'GU', '536': 'NR', '537': 'PG', '539': 'TO', '540': 'SB', '541': 'VU', '542': 'FJ', '543': 'WF',
  '544': 'AS', '545': 'KI', '546': 'NC', '547': 'PF', '548': 'CK', '549': 'WS', '550': 'FM', '551': 'MH', '552': 'PW',
  '553': 'TV', '554': 'TK', '555': 'NU',
  // Africa (6xx)
  '602': 'EG', '603': 'DZ', '604': 'MA', '605': 'TN', '606': 'LY', '607': 'GM', '608': 'SN', '609': 'MR', '610': 'ML',
  '611': 'GN', '612': 'CI', '613': 'BF', '614': 'NE', '615': 'TG', '616': 'BJ', '617': 'MU', '618': 'LR', '619': 'SL',
  '620': 'GH', '621': 'NG', '622': 'TD', '623': 'CF', '624': 'CM', '625': 'CV', '626': 'ST', '627': 'GQ', '628': 'GA',
  '629': 'CG', '630': 'CD', '631': 'AO', '632': 'GW', '633': 'SC', '634': 'SD', '635': 'RW', '636': 'ET', '637': 'SO',
  '638': 'DJ', '639': 'KE', '640': 'TZ', '641': 'UG', '642': 'BI', '643': 'MZ', '645': 'ZM', '646': 'MG', '647': 'RE',
  '648': 'ZW', '649': 'NA', '650': 'MW', '651': 'LS', '652': 'BW', '653': 'SZ', '654': 'KM', '655': 'ZA', '657': 'ER',
  '658': 'SH', '659': 'SS',
  // Central and South America (7xx)
  '702': 'BZ', '704': 'GT', '706': 'SV', '708': 'HN', '710': 'NI', '712': 'CR', '714': 'PA', '716': 'PE', '722': 'AR',
  '724': 'BR', '730': 'CL', '732': 'CO', '734': 'VE', '736': 'BO', '738': 'GY', '740': 'EC', '742': 'GF', '744': 'PY',
  '746': 'SR', '748': 'UY', '750': 'FK',
};

/** An operator: its name, and its country where that differs from the country of its MCC. */
type OperatorEntry = string | { name: string; country: string };

/** MCC+MNC (as sent, 2- or 3-digit MNC) → operator, for major networks. Not exhaustive: unknown ones still get a country. */
const OPERATORS: Readonly<Record<string, OperatorEntry>> = {
  // China, Hong Kong, Macao, Taiwan
  '46000': 'China Mobile', '46002': 'China Mobile', '46004': 'China Mobile', '46007': 'China Mobile', '46008': 'China Mobile',
  '46001': 'China Unicom', '46006': 'China Unicom', '46009': 'China Unicom',
  '46003': 'China Telecom', '46005': 'China Telecom', '46011': 'China Telecom', '46015': 'China Broadnet',
  '45400': 'CSL', '45402': 'CSL', '45403': '3 Hong Kong', '45404': '3 Hong Kong', '45406': 'SmarTone', '45407': 'China Unicom Hong Kong',
  '45412': 'China Mobile Hong Kong', '45413': 'China Mobile Hong Kong', '45416': 'PCCW Mobile', '45419': 'PCCW Mobile',
  '45500': 'SmarTone Macau', '45501': 'CTM', '45503': '3 Macau', '45504': 'CTM', '45505': '3 Macau', '45507': 'China Telecom Macau',
  '46601': 'Far EasTone', '46689': 'Taiwan Star', '46692': 'Chunghwa Telecom', '46697': 'Taiwan Mobile',
  // Japan, Korea
  '44010': 'NTT docomo', '44011': 'Rakuten Mobile', '44020': 'SoftBank', '44050': 'KDDI au', '44051': 'KDDI au',
  '45005': 'SK Telecom', '45006': 'LG U+', '45008': 'KT',
  // South-East Asia
  '52501': 'Singtel', '52502': 'Singtel', '52503': 'M1', '52505': 'StarHub',
  '50212': 'Maxis', '50213': 'Celcom', '50216': 'Digi', '50218': 'U Mobile', '50219': 'Celcom',
  '52001': 'AIS', '52003': 'AIS', '52004': 'TrueMove H', '52005': 'dtac', '52018': 'dtac',
  '51001': 'Indosat Ooredoo', '51010': 'Telkomsel', '51011': 'XL Axiata', '51021': 'Indosat Ooredoo', '51089': '3 Indonesia',
  '51502': 'Globe', '51503': 'Smart', '51505': 'Sun Cellular', '51566': 'DITO',
  '45201': 'MobiFone', '45202': 'VinaPhone', '45204': 'Viettel', '45205': 'Vietnamobile',
  '45601': 'Cellcard', '45606': 'Smart Axiata', '45608': 'Metfone',
  '45701': 'LaoTel', '45702': 'ETL', '45703': 'Unitel',
  '41401': 'MPT', '41405': 'Ooredoo Myanmar', '41406': 'ATOM', '41409': 'Mytel',
  '52811': 'DST',
  // South Asia
  '47001': 'Grameenphone', '47002': 'Robi', '47003': 'Banglalink', '47004': 'Teletalk',
  '41001': 'Jazz', '41003': 'Ufone', '41004': 'Zong', '41006': 'Telenor Pakistan', '41007': 'Jazz',
  '40410': 'Airtel', '40445': 'Airtel', '40490': 'Airtel', '40492': 'Airtel', '40411': 'Vi', '40420': 'Vi',
  '405840': 'Jio', '405854': 'Jio', '405857': 'Jio', '405861': 'Jio', '405872': 'Jio', '405874': 'Jio',
  '41301': 'Mobitel', '41302': 'Dialog', '42901': 'Nepal Telecom', '42902': 'Ncell', '47201': 'Dhiraagu', '47202': 'Ooredoo Maldives',
  '41201': 'AWCC', '41220': 'Roshan', '41240': 'MTN Afghanistan', '41250': 'Etisalat Afghanistan',
  // Central Asia, Caucasus, Mongolia
  '40101': 'Beeline Kazakhstan', '40102': 'Kcell', '40107': 'Altel', '40177': 'Tele2 Kazakhstan',
  '43701': 'Beeline Kyrgyzstan', '43705': 'MegaCom', '43709': 'O!',
  '43404': 'Beeline Uzbekistan', '43405': 'Ucell', '43407': 'Mobiuz',
  '43601': 'Tcell', '43603': 'MegaFon Tajikistan', '43605': 'ZET-Mobile',
  '43801': 'MTS Turkmenistan', '43802': 'TM Cell',
  '42888': 'Unitel Mongolia', '42891': 'Skytel', '42898': 'G-Mobile', '42899': 'Mobicom',
  '28301': 'Team Telecom Armenia', '28305': 'Viva-MTS', '28310': 'Ucom',
  '40001': 'Azercell', '40002': 'Bakcell', '40004': 'Nar',
  '28201': 'Silknet', '28202': 'MagtiCom', '28204': 'Cellfie',
  // Middle East
  '28601': 'Turkcell', '28602': 'Vodafone Turkey', '28603': 'Türk Telekom',
  '42001': 'stc', '42003': 'Mobily', '42004': 'Zain Saudi Arabia',
  '42402': 'e& (Etisalat)', '42403': 'du', '42701': 'Ooredoo Qatar', '42702': 'Vodafone Qatar',
  '41902': 'Zain Kuwait', '41903': 'Ooredoo Kuwait', '41904': 'stc Kuwait',
  '42601': 'Batelco', '42602': 'Zain Bahrain', '42604': 'stc Bahrain', '42202': 'Omantel', '42203': 'Ooredoo Oman',
  '41601': 'Zain Jordan', '41603': 'Umniah', '41677': 'Orange Jordan',
  '41805': 'Asiacell', '41820': 'Zain Iraq', '41840': 'Korek',
  '42101': 'SabaFon', '42102': 'MTN Yemen',
  '43211': 'MCI (Hamrah-e Aval)', '43220': 'RighTel', '43235': 'MTN Irancell',
  '41501': 'Alfa', '41503': 'touch', '41701': 'Syriatel', '41702': 'MTN Syria',
  '42501': 'Partner', '42502': 'Cellcom Israel', '42503': 'Pelephone', '42507': 'Hot Mobile', '42508': 'Golan Telecom',
  '42505': { name: 'Jawwal', country: 'PS' }, '42506': { name: 'Ooredoo Palestine', country: 'PS' },
  // Russia, Ukraine, Belarus, Moldova
  '25001': 'MTS', '25002': 'MegaFon', '25011': 'Yota', '25020': 'Tele2 Russia', '25099': 'Beeline',
  '25501': 'Vodafone Ukraine', '25503': 'Kyivstar', '25506': 'lifecell',
  '25701': 'A1 Belarus', '25702': 'MTS Belarus', '25704': 'life:) Belarus',
  '25901': 'Orange Moldova', '25902': 'Moldcell',
  // Western Europe
  '26201': 'Telekom Deutschland', '26202': 'Vodafone Germany', '26203': 'O2 Germany', '26206': 'Telekom Deutschland', '26207': 'O2 Germany',
  '20801': 'Orange France', '20802': 'Orange France', '20810': 'SFR', '20815': 'Free Mobile', '20820': 'Bouygues Telecom',
  '23410': 'O2 UK', '23415': 'Vodafone UK', '23420': 'Three UK', '23430': 'EE', '23433': 'EE',
  '23403': { name: 'Airtel-Vodafone', country: 'JE' }, '23450': { name: 'JT', country: 'JE' },
  '23436': { name: 'Sure Isle of Man', country: 'IM' }, '23458': { name: 'Manx Telecom', country: 'IM' },
  '23455': { name: 'Sure Guernsey', country: 'GG' },
  '27201': 'Vodafone Ireland', '27202': 'Three Ireland', '27203': 'eir', '27205': 'Three Ireland',
  '20404': 'Vodafone Netherlands', '20408': 'KPN', '20416': 'Odido', '20420': 'Odido',
  '20601': 'Proximus', '20610': 'Orange Belgium', '20620': 'BASE',
  '27001': 'POST Luxembourg', '27077': 'Tango', '27099': 'Orange Luxembourg',
  '22801': 'Swisscom', '22802': 'Sunrise', '22803': 'Salt',
  '29501': 'Swisscom Liechtenstein', '29505': 'FL1',
  '23201': 'A1 Austria', '23203': 'Magenta Telekom', '23205': 'Drei Austria', '23210': 'Drei Austria',
  '21401': 'Vodafone Spain', '21403': 'Orange Spain', '21404': 'Yoigo', '21407': 'Movistar',
  '26801': 'Vodafone Portugal', '26803': 'NOS', '26806': 'MEO',
  '22201': 'TIM', '22210': 'Vodafone Italy', '22250': 'iliad', '22288': 'WINDTRE', '22299': 'WINDTRE',
  '20201': 'Cosmote', '20205': 'Vodafone Greece', '20210': 'Nova',
  '28001': 'Cyta', '28010': 'epic Cyprus', '28020': 'PrimeTel',
  '27801': 'epic Malta', '27821': 'GO', '27877': 'Melita',
  '26601': 'Gibtelecom',
  // Nordic and Baltic
  '23801': 'TDC', '23802': 'Telenor Denmark', '23806': '3 Denmark', '23820': 'Telia Denmark',
  '24001': 'Telia Sweden', '24002': '3 Sweden', '24007': 'Tele2 Sweden', '24008': 'Telenor Sweden',
  '24201': 'Telenor Norway', '24202': 'Telia Norway', '24214': 'ice',
  '24405': 'Elisa', '24412': 'DNA', '24491': 'Telia Finland', '24414': { name: 'Ålands Telekommunikation', country: 'AX' },
  '27401': 'Síminn', '27402': 'Vodafone Iceland', '27411': 'Nova Iceland',
  '28801': 'Føroya Tele', '28802': 'Hey', '29001': 'Tusass',
  '24801': 'Telia Estonia', '24802': 'Elisa Estonia', '24803': 'Tele2 Estonia',
  '24701': 'LMT', '24702': 'Tele2 Latvia', '24705': 'Bite Latvia',
  '24601': 'Telia Lithuania', '24602': 'Bite Lithuania', '24603': 'Tele2 Lithuania',
  // Central and South-East Europe
  '26001': 'Plus', '26002': 'T-Mobile Poland', '26003': 'Orange Poland', '26006': 'Play',
  '23001': 'T-Mobile Czech Republic', '23002': 'O2 Czech Republic', '23003': 'Vodafone Czech Republic',
  '23101': 'Orange Slovakia', '23102': 'Telekom Slovakia', '23106': 'O2 Slovakia',
  '21601': 'Yettel Hungary', '21630': 'Magyar Telekom', '21670': 'One Hungary',
  '22601': 'Vodafone Romania', '22603': 'Telekom Romania', '22605': 'Digi Romania', '22610': 'Orange Romania',
  '28401': 'A1 Bulgaria', '28403': 'Vivacom', '28405': 'Yettel Bulgaria',
  '21901': 'Hrvatski Telekom', '21902': 'Telemach Croatia', '21910': 'A1 Croatia',
  '29340': 'A1 Slovenia', '29341': 'Telekom Slovenije', '29370': 'Telemach Slovenia',
  '22001': 'Yettel Serbia', '22003': 'mts', '22005': 'A1 Serbia',
  '21803': 'HT Eronet', '21805': 'm:tel', '21890': 'BH Telecom',
  '29702': 'Crnogorski Telekom', '29703': 'm:tel Montenegro', '29401': 'Makedonski Telekom', '29403': 'A1 Macedonia',
  // North America
  '310410': 'AT&T', '310170': 'AT&T', '310280': 'AT&T', '310260': 'T-Mobile US', '310120': 'T-Mobile US',
  '311480': 'Verizon', '310004': 'Verizon', '310012': 'Verizon',
  '302220': 'Telus', '302610': 'Bell', '302720': 'Rogers', '302490': 'Freedom Mobile', '302500': 'Vidéotron',
  '334020': 'Telcel', '334030': 'Movistar Mexico', '334050': 'AT&T Mexico', '334090': 'AT&T Mexico',
  // Caribbean
  '338050': 'Digicel Jamaica', '338180': 'Flow Jamaica', '37001': 'Altice Dominicana', '37002': 'Claro Dominicana', '37004': 'Viva',
  '37202': 'Digicel Haiti', '37203': 'Natcom', '37412': 'bmobile', '36801': 'Cubacel',
  '34001': 'Orange Caraïbe', '34020': 'Digicel Antilles Françaises', '36301': 'Setar', '36302': 'Digicel Aruba',
  '36278': { name: 'Telbo', country: 'BQ' },
  // Central and South America
  '72402': 'TIM Brasil', '72403': 'TIM Brasil', '72404': 'TIM Brasil', '72405': 'Claro Brasil', '72406': 'Vivo', '72410': 'Vivo',
  '72411': 'Vivo', '72423': 'Vivo', '72431': 'Oi',
  '722070': 'Movistar Argentina', '722310': 'Claro Argentina', '722320': 'Claro Argentina', '722330': 'Claro Argentina', '722341': 'Personal',
  '73001': 'Entel Chile', '73002': 'Movistar Chile', '73003': 'Claro Chile', '73009': 'WOM Chile',
  '732101': 'Claro Colombia', '732103': 'Tigo Colombia', '732111': 'Tigo Colombia', '732123': 'Movistar Colombia', '732360': 'WOM Colombia',
  '71606': 'Movistar Peru', '71607': 'Entel Peru', '71610': 'Claro Peru', '71615': 'Bitel',
  '74000': 'Movistar Ecuador', '74001': 'Claro Ecuador', '74002': 'CNT',
  '73401': 'Digitel', '73404': 'Movistar Venezuela', '73406': 'Movilnet',
  '74801': 'Antel', '74807': 'Movistar Uruguay', '74810': 'Claro Uruguay',
  '74401': 'VOX', '74402': 'Claro Paraguay', '74404': 'Tigo Paraguay', '74405': 'Personal Paraguay',
  '73601': 'Viva Bolivia', '73602': 'Entel Bolivia', '73603': 'Tigo Bolivia',
  '71201': 'Kölbi', '71202': 'Kölbi', '71203': 'Claro Costa Rica',
  '70401': 'Claro Guatemala', '70402': 'Tigo Guatemala', '70601': 'Claro El Salvador', '70603': 'Tigo El Salvador',
  '71021': 'Claro Nicaragua', '71030': 'Tigo Nicaragua',
  '73801': 'Digicel Guyana', '74602': 'Telesur', '74603': 'Digicel Suriname',
  // Africa
  '60201': 'Orange Egypt', '60202': 'Vodafone Egypt', '60203': 'e& Egypt', '60204': 'WE',
  '60301': 'Mobilis', '60302': 'Djezzy', '60303': 'Ooredoo Algeria',
  '60400': 'Orange Morocco', '60401': 'Maroc Telecom', '60402': 'inwi',
  '60501': 'Orange Tunisia', '60502': 'Tunisie Telecom', '60503': 'Ooredoo Tunisia',
  '62120': 'Airtel Nigeria', '62130': 'MTN Nigeria', '62150': 'Glo', '62160': '9mobile',
  '62001': 'MTN Ghana', '62002': 'Telecel Ghana', '62003': 'AirtelTigo',
  '63902': 'Safaricom', '63903': 'Airtel Kenya', '63907': 'Telkom Kenya',
  '64002': 'Yas Tanzania', '64004': 'Vodacom Tanzania', '64005': 'Airtel Tanzania',
  '64101': 'Airtel Uganda', '64110': 'MTN Uganda',
  '65501': 'Vodacom', '65502': 'Telkom Mobile', '65507': 'Cell C', '65510': 'MTN South Africa',
  '64501': 'Airtel Zambia', '64502': 'MTN Zambia', '64503': 'Zamtel',
  '64801': 'NetOne', '64804': 'Econet',
  '63510': 'MTN Rwanda', '63513': 'Airtel Rwanda',
  '60801': 'Orange Senegal', '60802': 'Free Senegal', '61203': 'Orange Côte d\'Ivoire', '61205': 'MTN Côte d\'Ivoire',
  '62401': 'MTN Cameroon', '62402': 'Orange Cameroon', '63001': 'Vodacom Congo', '63002': 'Airtel Congo (DRC)',
  '63401': 'Zain Sudan', '63402': 'MTN Sudan', '65201': 'Mascom', '65202': 'Orange Botswana',
  '64304': 'Vodacom Mozambique', '64602': 'Orange Madagascar', '64604': 'Telma', '64700': 'Orange Réunion', '64710': 'SFR Réunion',
  // Oceania
  '50501': 'Telstra', '50502': 'Optus', '50503': 'Vodafone Australia',
  '53001': 'One NZ', '53005': 'Spark', '53024': '2degrees',
  '54201': 'Vodafone Fiji', '54202': 'Digicel Fiji', '53703': 'Digicel PNG',
};

export interface Plmn {
  mcc: string;
  mnc: string;
  /** ISO 3166-1 alpha-2, or null for an MCC without a country (e.g. 901 international networks). */
  country: string | null;
  operator: string | null;
}

/** The country of a mobile country code, or null. */
export function countryOfMcc(mcc: string): string | null {
  return MCC_COUNTRY[mcc] ?? null;
}

const entryOf = (key: string): OperatorEntry | undefined => OPERATORS[key];

/**
 * Country and operator of a serving network given as MCC+MNC digits (`46000`, `310410`; `460-00` is accepted).
 * Five digits are a 2-digit MNC, six a 3-digit one. When the exact code is not in the operator table, the same
 * network written with the other MNC length (`460000` ↔ `46000`, `31041` ↔ `310041`) is tried, because some
 * gateways pad or trim the MNC. Returns null when the input is not 5 or 6 digits.
 */
export function describePlmn(mccMnc: string): Plmn | null {
  const digits = mccMnc.trim().replace(/[-\s]/g, '');
  if (!/^\d{5,6}$/.test(digits)) return null;
  const mcc = digits.slice(0, 3);
  const mnc = digits.slice(3);
  const alternative = mnc.length === 3 ? (mnc.startsWith('0') ? `${mcc}${mnc.slice(1)}` : undefined) : `${mcc}0${mnc}`;
  const entry = entryOf(digits) ?? (alternative ? entryOf(alternative) : undefined);
  const country = (typeof entry === 'object' ? entry.country : undefined) ?? countryOfMcc(mcc);
  const operator = entry === undefined ? null : typeof entry === 'string' ? entry : entry.name;
  return { mcc, mnc, country, operator };
}

/** Every country the tables can name (for checks against zone catalogues). */
export function knownCountries(): Set<string> {
  const out = new Set(Object.values(MCC_COUNTRY));
  for (const entry of Object.values(OPERATORS)) if (typeof entry === 'object') out.add(entry.country);
  return out;
}
